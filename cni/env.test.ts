import { describe, expect, it } from 'vitest';
import { readAttachmentEnv, readCommand } from './env.js';
import { CniError } from './errors.js';

const ADD_ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_IFNAME: 'eth0',
  CNI_NETNS: '/run/netns/x',
};

function envError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('CNI_COMMAND', () => {
  it('accepts the six verbs', () => {
    for (const c of ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS']) {
      expect(readCommand({ CNI_COMMAND: c })).toBe(c);
    }
  });

  it.each([
    [undefined, /^CNI_COMMAND: required/],
    ['', /^CNI_COMMAND: required/],
    ['add', /^CNI_COMMAND: unknown command "add"/],
    ['FOO', /^CNI_COMMAND: unknown command "FOO"/],
  ])('refuses %j with code 4', (value, msg) => {
    const e = envError(() => readCommand({ CNI_COMMAND: value }));
    expect(e.code).toBe(4);
    expect(e.msg).toMatch(msg);
  });
});

describe('attachment env', () => {
  it('reads ADD', () => {
    expect(readAttachmentEnv('ADD', { ...ADD_ENV, CNI_ARGS: 'K8S_POD_NAME=a' })).toEqual({
      containerId: 'abc123',
      ifname: 'eth0',
      netns: '/run/netns/x',
      args: 'K8S_POD_NAME=a',
    });
  });

  it('allows DEL without CNI_NETNS, or with it empty', () => {
    expect(readAttachmentEnv('DEL', { ...ADD_ENV, CNI_NETNS: '' })).toEqual({
      containerId: 'abc123',
      ifname: 'eth0',
      args: '',
    });
    expect(readAttachmentEnv('DEL', { ...ADD_ENV, CNI_NETNS: undefined }).netns).toBeUndefined();
  });

  it('does not need CNI_PATH', () => {
    expect(readAttachmentEnv('CHECK', { ...ADD_ENV, CNI_PATH: undefined }).ifname).toBe('eth0');
  });

  const cases: [string, 'ADD' | 'DEL' | 'CHECK', Record<string, string | undefined>, RegExp][] = [
    ['no container id', 'ADD', { CNI_CONTAINERID: undefined }, /^CNI_CONTAINERID: required for ADD/],
    ['no ifname', 'DEL', { CNI_IFNAME: '' }, /^CNI_IFNAME: required for DEL/],
    ['no netns for ADD', 'ADD', { CNI_NETNS: '' }, /^CNI_NETNS: required for ADD/],
    ['no netns for CHECK', 'CHECK', { CNI_NETNS: undefined }, /^CNI_NETNS: required for CHECK/],
    [
      'several missing',
      'ADD',
      { CNI_CONTAINERID: undefined, CNI_NETNS: undefined },
      /^CNI_CONTAINERID, CNI_NETNS: required/,
    ],
    [
      'a container id starting with -',
      'ADD',
      { CNI_CONTAINERID: '-abc' },
      /^CNI_CONTAINERID: "-abc" must match/,
    ],
    ['a container id with /', 'DEL', { CNI_CONTAINERID: 'a/b' }, /^CNI_CONTAINERID: "a\/b" must match/],
    ['a 16-byte ifname', 'ADD', { CNI_IFNAME: 'a234567890123456' }, /^CNI_IFNAME: .* at most 15 bytes/],
    ['ifname "."', 'ADD', { CNI_IFNAME: '.' }, /^CNI_IFNAME: "\." must not be "\."/],
    ['ifname ".."', 'ADD', { CNI_IFNAME: '..' }, /^CNI_IFNAME: "\.\." must not be/],
    ['ifname with /', 'ADD', { CNI_IFNAME: 'a/b' }, /^CNI_IFNAME: "a\/b" must not contain/],
    ['ifname with :', 'ADD', { CNI_IFNAME: 'eth0:1' }, /^CNI_IFNAME: "eth0:1" must not contain/],
    ['ifname with a space', 'ADD', { CNI_IFNAME: 'eth 0' }, /^CNI_IFNAME: "eth 0" must not contain/],
    ['a relative netns', 'ADD', { CNI_NETNS: 'netns/x' }, /^CNI_NETNS: "netns\/x" must be an absolute path/],
  ];
  it.each(cases)('refuses %s with code 4 naming the variable', (_, command, patch, msg) => {
    const e = envError(() => readAttachmentEnv(command, { ...ADD_ENV, ...patch }));
    expect(e.code).toBe(4);
    expect(e.msg).toMatch(msg);
  });

  it('accepts a 15-byte ifname and a 64-hex container id', () => {
    const id = 'a'.repeat(64);
    expect(
      readAttachmentEnv('ADD', { ...ADD_ENV, CNI_CONTAINERID: id, CNI_IFNAME: 'a23456789012345' }),
    ).toMatchObject({
      containerId: id,
      ifname: 'a23456789012345',
    });
  });
});
