import { describe, expect, it } from 'vitest';
import {
  AddressError,
  addressAt,
  cidrContains,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  parseCidr,
  parseInterfaceAddress,
  parseIp,
  pointToPointAddresses,
} from './addr.js';

describe('address math (IPv4 and IPv6)', () => {
  it('parses and canonicalizes addresses of both families', () => {
    expect(parseIp('198.18.0.1')).toEqual({ family: 4, address: '198.18.0.1' });
    expect(parseIp('2001:0002:0000::0001')).toEqual({ family: 6, address: '2001:2::1' });
    for (const bad of ['198.18.0', '10.1', '300.1.1.1', 'fe80::1/64', 'fe80::1%eth0', '', 'eth0']) {
      expect(() => parseIp(bad), bad).toThrow(AddressError);
    }
  });

  it('parses prefixes strictly and names the problem', () => {
    expect(parseCidr('10.244.0.0/16')).toEqual({ family: 4, network: '10.244.0.0', prefixLength: 16 });
    expect(parseCidr('2001:2::/48')).toEqual({ family: 6, network: '2001:2::', prefixLength: 48 });
    expect(() => parseCidr('10.244.0.1/16')).toThrow(/host bits set \(the prefix is 10\.244\.0\.0\/16\)/);
    expect(parseCidr('10.244.0.1/16', { strict: false }).network).toBe('10.244.0.0');
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/invalid prefix length \(0-32 for IPv4\)/);
    expect(() => parseCidr('2001:2::/129')).toThrow(/0-128 for IPv6/);
    expect(() => parseCidr('10.0.0.0')).toThrow(/no prefix length/);
    expect(() => parseCidr('10.0.0.0/x')).toThrow(/invalid prefix length/);
  });

  it('computes sizes and offsets with bigints (IPv6-safe)', () => {
    expect(cidrSize(parseCidr('10.244.0.0/26'))).toBe(64n);
    expect(cidrSize(parseCidr('2001:2::/64'))).toBe(1n << 64n);
    expect(addressAt(parseCidr('10.244.1.0/26'), 63)).toBe('10.244.1.63');
    expect(addressAt(parseCidr('2001:2::/64'), 0x1_0000n)).toBe('2001:2::1:0');
    expect(() => addressAt(parseCidr('10.244.1.0/26'), 64)).toThrow(/outside 10\.244\.1\.0\/26/);
  });

  it('picks point-to-point addresses: both of a /31 or /127, else the first two hosts', () => {
    const addrs = (c: string) =>
      pointToPointAddresses(parseCidr(c)).map((a) => `${a.address}/${a.prefixLength}`);
    expect(addrs('198.18.0.0/31')).toEqual(['198.18.0.0/31', '198.18.0.1/31']);
    expect(addrs('198.18.0.0/30')).toEqual(['198.18.0.1/30', '198.18.0.2/30']);
    expect(addrs('198.18.0.0/24')).toEqual(['198.18.0.1/24', '198.18.0.2/24']);
    expect(addrs('2001:2::/127')).toEqual(['2001:2::/127', '2001:2::1/127']);
    expect(addrs('2001:2::/64')).toEqual(['2001:2::1/64', '2001:2::2/64']);
    expect(() => addrs('198.18.0.1/32')).toThrow(/too small/);
  });

  it('answers containment and overlap, never across families', () => {
    const block = parseCidr('10.244.1.0/26');
    expect(cidrContains(block, '10.244.1.63')).toBe(true);
    expect(cidrContains(block, '10.244.1.64')).toBe(false);
    expect(cidrContains(parseCidr('::/0'), '10.0.0.1')).toBe(false);
    expect(cidrsOverlap(parseCidr('10.244.0.0/16'), block)).toBe(true);
    expect(cidrsOverlap(block, parseCidr('10.244.1.64/26'))).toBe(false);
    expect(cidrsOverlap(parseCidr('2001:2::/48'), parseCidr('2001:2:0:1::/64'))).toBe(true);
  });

  it('keeps the host part of interface addresses', () => {
    expect(parseInterfaceAddress('198.18.0.1/31')).toEqual({
      family: 4,
      address: '198.18.0.1',
      prefixLength: 31,
    });
    expect(formatCidr(parseCidr('10.0.0.0/8'))).toBe('10.0.0.0/8');
  });
});
