import { describe, expect, it } from 'vitest';
import { parseCidr } from '../common/addr.js';
import { cidrResourceName, nodeLabelValue } from './names.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

describe('cidrResourceName', () => {
  it('writes IPv4 CIDRs with dashes', () => {
    expect(cidrResourceName('10.244.0.64/26')).toBe('10-244-0-64-26');
    expect(cidrResourceName(parseCidr('192.168.255.0/24'))).toBe('192-168-255-0-24');
  });

  it('writes IPv6 CIDRs in full groups, so names never start or end with a dash', () => {
    expect(cidrResourceName('fd00::/122')).toBe('fd00-0-0-0-0-0-0-0-122');
    expect(cidrResourceName('fd00:10:244::40/122')).toBe('fd00-10-244-0-0-0-0-40-122');
    expect(cidrResourceName('::/0')).toBe('0-0-0-0-0-0-0-0-0');
    // Every spelling of one network gives one name.
    expect(cidrResourceName('FD00:0:0:0:0:0:0:0/122')).toBe(cidrResourceName('fd00::/122'));
  });

  it('gives valid, distinct object names', () => {
    const names = ['10.244.0.0/26', '10.244.0.64/26', '10.244.0.0/25', 'fd00::/122', 'fd00::40/122'].map(
      (c) => cidrResourceName(c),
    );
    for (const n of names) expect(n).toMatch(DNS_SUBDOMAIN);
    expect(new Set(names).size).toBe(names.length);
  });

  it('refuses CIDRs with host bits', () => {
    expect(() => cidrResourceName('10.244.0.1/26')).toThrow(/host bits/);
  });
});

describe('nodeLabelValue', () => {
  it('keeps node names that are valid label values', () => {
    for (const n of ['node1', 'worker-1.rack-a', 'A_b.c', 'x'.repeat(63)]) expect(nodeLabelValue(n)).toBe(n);
  });

  it('hashes long or invalid names into a stable valid label value', () => {
    const long = `node-${'a'.repeat(70)}.example.com`;
    const inputs = [long, `${long}x`, '-leading-dash', 'trailing.', 'has space', 'ünïcode', ''];
    const values = inputs.map((n) => nodeLabelValue(n));
    for (const v of values) {
      expect(v).toMatch(LABEL_VALUE);
      expect(v).toMatch(/^h-[0-9a-f]{40}$/);
    }
    expect(new Set(values).size).toBe(inputs.length);
    expect(nodeLabelValue(long)).toBe(values[0]);
  });
});
