// gobgp-errors: gRPC status (code first, gobgpd 3.10's UNKNOWN texts second) → error class.
import { describe, expect, it } from 'vitest';
import {
  classifyGobgpStatus,
  GobgpAlreadyExistsError,
  GobgpError,
  GobgpInUseError,
  GobgpNotFoundError,
  GobgpNotStartedError,
  GobgpUnavailableError,
  isGobgpErrorKind,
  toGobgpError,
} from './gobgp-errors.js';

describe('classifyGobgpStatus', () => {
  it('trusts codes other than UNKNOWN', () => {
    expect(classifyGobgpStatus(14, 'Connection dropped')).toBe('unavailable');
    expect(classifyGobgpStatus(4, 'Deadline exceeded')).toBe('unavailable');
    expect(classifyGobgpStatus(5, 'x')).toBe('not-found');
    expect(classifyGobgpStatus(6, 'x')).toBe('already-exists');
    expect(classifyGobgpStatus(9, "bgp server hasn't started yet")).toBe('not-started');
    expect(classifyGobgpStatus(8, 'Received message larger than max')).toBe('other');
    expect(classifyGobgpStatus(1, 'Cancelled on client')).toBe('other');
  });

  it("reads gobgpd 3.10's UNKNOWN texts", () => {
    const cases: [string, string][] = [
      ["bgp server hasn't started yet", 'not-started'],
      ['invalid defined-set type: 0', 'not-started'],
      ["can't overwrite the existing peer: 10.0.0.2", 'already-exists'],
      ['statement p/x already defined', 'already-exists'],
      ["neighbor that has 10.0.0.9 doesn't exist", 'not-found'],
      ["can't delete a peer configuration for 10.0.0.9", 'not-found'],
      ['not found policy: p1', 'not-found'],
      ['not found defined-set: own4', 'not-found'],
      ["can't find a specified path", 'not-found'],
      ["can't delete. defined-set own4 is in use", 'in-use'],
      ["can't delete. policy p2 is in use", 'in-use'],
      ['listen tcp4 0.0.0.0:179: bind: address already in use', 'other'],
      ['invalid router-id format', 'other'],
    ];
    for (const [text, kind] of cases) expect([text, classifyGobgpStatus(2, text)]).toEqual([text, kind]);
  });
});

describe('toGobgpError', () => {
  it('builds the class of the kind, keeping op, code and details', () => {
    const e = toGobgpError('AddPeer', { code: 2, details: "can't overwrite the existing peer: 10.0.0.2" });
    expect(e).toBeInstanceOf(GobgpAlreadyExistsError);
    expect(e).toBeInstanceOf(GobgpError);
    expect(e).toMatchObject({ op: 'AddPeer', code: 2, kind: 'already-exists' });
    expect(e.message).toBe("gobgp AddPeer: can't overwrite the existing peer: 10.0.0.2");
    expect(toGobgpError('GetBgp', { code: 14, details: 'No connection established' })).toBeInstanceOf(
      GobgpUnavailableError,
    );
    expect(toGobgpError('ListPath', { code: 2, details: "bgp server hasn't started yet" })).toBeInstanceOf(
      GobgpNotStartedError,
    );
    expect(
      toGobgpError('DeletePeer', { code: 2, details: "can't delete a peer configuration for x" }),
    ).toBeInstanceOf(GobgpNotFoundError);
    expect(toGobgpError('DeleteDefinedSet', { code: 2, details: 'x is in use' })).toBeInstanceOf(
      GobgpInUseError,
    );
  });

  it('passes GobgpErrors through and wraps anything else as UNKNOWN', () => {
    const e = new GobgpNotFoundError('X', 2, 'gone');
    expect(toGobgpError('Y', e)).toBe(e);
    const w = toGobgpError('AddPath', new Error('Channel has been shut down'));
    expect(w).toMatchObject({ code: 2, kind: 'other', detail: 'Channel has been shut down' });
    expect(isGobgpErrorKind(w, 'other')).toBe(true);
    expect(isGobgpErrorKind(new Error('x'), 'other')).toBe(false);
  });
});
