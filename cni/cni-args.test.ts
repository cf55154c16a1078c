import { describe, expect, it } from 'vitest';
import { parseCniArgs } from './cni-args.js';
import { CniError } from './errors.js';

function argsError(args: string): CniError {
  try {
    parseCniArgs(args);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('CNI_ARGS', () => {
  const identity = {
    namespace: 'default',
    name: 'web-0',
    uid: '6f1c-42',
    infraContainerId: 'c0ffee',
  };
  const pairs = [
    'IgnoreUnknown=1',
    'K8S_POD_NAMESPACE=default',
    'K8S_POD_NAME=web-0',
    'K8S_POD_INFRA_CONTAINER_ID=c0ffee',
    'K8S_POD_UID=6f1c-42',
  ];

  it('reads the pod identity in any order (containerd shuffles them)', () => {
    expect(parseCniArgs(pairs.join(';'))).toEqual(identity);
    expect(parseCniArgs([...pairs].reverse().join(';'))).toEqual(identity);
    expect(parseCniArgs([pairs[3], pairs[0], pairs[4], pairs[1], pairs[2]].join(';'))).toEqual(identity);
  });

  it('is empty for no args, and skips empty pairs and empty values', () => {
    expect(parseCniArgs('')).toEqual({});
    expect(parseCniArgs(';K8S_POD_NAME=a;;K8S_POD_UID=;')).toEqual({ name: 'a' });
  });

  it('refuses an unknown key with code 2 naming it', () => {
    const e = argsError('K8S_POD_NAME=a;IP=10.0.0.1');
    expect(e.code).toBe(2);
    expect(e.msg).toMatch(/CNI_ARGS: unknown args "IP=10\.0\.0\.1"/);
  });

  it('allows unknown keys with IgnoreUnknown=1 or true, wherever it stands', () => {
    expect(parseCniArgs('IP=10.0.0.1;K8S_POD_NAME=a;IgnoreUnknown=1')).toEqual({ name: 'a' });
    expect(parseCniArgs('IgnoreUnknown=true;FOO=bar')).toEqual({});
    expect(parseCniArgs('IgnoreUnknown=TRUE;FOO=bar')).toEqual({});
    expect(argsError('IgnoreUnknown=0;FOO=bar').code).toBe(2);
    expect(argsError('IgnoreUnknown=false;FOO=bar').code).toBe(2);
  });

  it('refuses a malformed pair or IgnoreUnknown value with code 4', () => {
    expect(argsError('K8S_POD_NAME').msg).toMatch(/CNI_ARGS: "K8S_POD_NAME" is not a KEY=VALUE pair/);
    expect(argsError('=x').code).toBe(4);
    expect(argsError('IgnoreUnknown=yes').msg).toMatch(/CNI_ARGS: IgnoreUnknown="yes"/);
  });

  it('keeps "=" inside values and is not fooled by Object.prototype keys', () => {
    expect(parseCniArgs('K8S_POD_NAME=a=b')).toEqual({ name: 'a=b' });
    expect(argsError('constructor=1').code).toBe(2);
  });
});
