import { describe, expect, it } from 'vitest';
import { tarHeader, writeTar } from './tar.js';

const field = (h: Buffer, off: number, len: number) =>
  h
    .subarray(off, off + len)
    .toString('utf8')
    .replace(/\0.*$/s, '');

describe('ustar writer', () => {
  it('writes a header tar reads: name, mode, size, type, checksum', () => {
    const h = tarHeader({ type: 'file', path: 'bin/busybox', data: new Uint8Array(1000), mode: 0o755 });
    expect(h.length).toBe(512);
    expect(field(h, 0, 100)).toBe('bin/busybox');
    expect(field(h, 100, 8)).toBe('0000755');
    expect(Number.parseInt(field(h, 124, 12), 8)).toBe(1000);
    expect(field(h, 156, 1)).toBe('0');
    expect(h.subarray(257, 265).toString('latin1')).toBe('ustar\u000000');
    // checksum: the byte sum with the checksum field read as spaces
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((a, b) => a + b, 0);
    expect(Number.parseInt(field(h, 148, 7), 8)).toBe(sum);
  });

  it('marks directories with a trailing slash and symlinks with their target', () => {
    const d = tarHeader({ type: 'dir', path: 'blobs/sha256' });
    expect(field(d, 0, 100)).toBe('blobs/sha256/');
    expect(field(d, 156, 1)).toBe('5');
    const l = tarHeader({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
    expect(field(l, 156, 1)).toBe('2');
    expect(field(l, 157, 100)).toBe('busybox');
  });

  it('splits a long path into prefix and name', () => {
    const path = `${'a'.repeat(80)}/${'b'.repeat(80)}`;
    const h = tarHeader({ type: 'file', path, data: new Uint8Array() });
    expect(field(h, 345, 155)).toBe('a'.repeat(80));
    expect(field(h, 0, 100)).toBe('b'.repeat(80));
    expect(() => tarHeader({ type: 'file', path: 'x'.repeat(300), data: new Uint8Array() })).toThrow(
      /too long/,
    );
  });

  it('pads data to 512-byte blocks and ends with two zero blocks', () => {
    const tar = writeTar([{ type: 'file', path: 'f', data: Buffer.from('hello') }]);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(512, 517).toString()).toBe('hello');
    expect(tar.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it('is deterministic', () => {
    const entries = [{ type: 'file' as const, path: 'f', data: Buffer.from('x') }];
    expect(writeTar(entries).equals(writeTar(entries))).toBe(true);
  });
});
