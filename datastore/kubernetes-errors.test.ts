import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DatastoreError } from './errors.js';
import { mapErrors, reasonFor, statusOf, THROTTLED_ATTEMPTS, toDatastoreError } from './kubernetes-errors.js';

const apiError = (code: number, reason: string, message: string) =>
  new ApiException(
    code,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', code, reason, message }),
    {},
  );

describe('Kubernetes error mapping', () => {
  it('maps HTTP statuses to reasons', () => {
    expect(reasonFor(404, 'get')).toBe('NotFound');
    expect(reasonFor(409, 'create')).toBe('AlreadyExists');
    expect(reasonFor(409, 'update')).toBe('Conflict');
    expect(reasonFor(409, 'delete')).toBe('Conflict');
    expect(reasonFor(410, 'watch')).toBe('Conflict');
    expect(reasonFor(422, 'create')).toBe('Invalid');
    expect(reasonFor(400, 'list')).toBe('Invalid');
    for (const code of [429, 500, 503]) expect(reasonFor(code, 'list')).toBe('Unavailable');
    for (const code of [401, 403]) expect(reasonFor(code, 'list')).toBe('Forbidden');
  });

  it("keeps the API server's message, which names the field", () => {
    const msg = 'IPPool.tabby.dev "p" is invalid: spec.cidr: Invalid value: "string": spec.cidr must be ...';
    const e = toDatastoreError(apiError(422, 'Invalid', msg), 'create', 'IPPool p');
    expect(e).toBeInstanceOf(DatastoreError);
    expect(e).toMatchObject({ reason: 'Invalid', status: 422, message: `create IPPool p: ${msg}` });
    expect(statusOf(apiError(409, 'AlreadyExists', 'x'))).toEqual({
      code: 409,
      status: { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'x' },
    });
  });

  it('reads watch failures (statusCode, no body) and Status objects of ERROR events', () => {
    const refused = Object.assign(new Error('Too Many Requests'), { statusCode: 429 });
    expect(toDatastoreError(refused, 'watch', 'IPPool')).toMatchObject({
      reason: 'Unavailable',
      message: 'watch IPPool: HTTP 429 Too Many Requests',
    });
    const gone = {
      code: 410,
      body: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (9)' },
    };
    expect(toDatastoreError(gone, 'watch', 'IPPool')).toMatchObject({ reason: 'Conflict', status: 410 });
  });

  it('maps network failures to Unavailable and leaves other errors alone', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toDatastoreError(refused, 'list', 'IPPool')).toMatchObject({ reason: 'Unavailable' });
    const bug = new TypeError('x is not a function');
    expect(toDatastoreError(bug, 'list', 'IPPool')).toBe(bug);
    const already = new DatastoreError('NotFound', 'gone');
    expect(toDatastoreError(already, 'get', 'IPPool')).toBe(already);
  });
});

describe('mapErrors', () => {
  it('repeats a throttled (429) call, then gives up as Unavailable', async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw apiError(429, 'TooManyRequests', 'storage is (re)initializing');
      return 'ok';
    };
    expect(await mapErrors('list', 'IPPool', flaky, 1)).toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    const always = async () => {
      calls++;
      throw apiError(429, 'TooManyRequests', 'slow down');
    };
    await expect(mapErrors('list', 'IPPool', always, 1)).rejects.toMatchObject({ reason: 'Unavailable' });
    expect(calls).toBe(THROTTLED_ATTEMPTS);
  });

  it('does not repeat other failures', async () => {
    let calls = 0;
    const denied = async () => {
      calls++;
      throw apiError(403, 'Forbidden', 'ippools is forbidden');
    };
    await expect(mapErrors('list', 'IPPool', denied, 1)).rejects.toMatchObject({ reason: 'Forbidden' });
    expect(calls).toBe(1);
  });
});
