// Address syntax checks for results (node:net's isIP; no address library in the plugin). Zoned
// addresses (fe80::1%eth0) are refused, as Go's net.ParseIP does.
import { isIP } from 'node:net';

const family = (ip: string): 0 | 4 | 6 => {
  const f = ip.includes('%') ? 0 : isIP(ip);
  return f === 4 || f === 6 ? f : 0;
};

export const isIpAddress = (s: string): boolean => family(s) !== 0;

/** 4 or 6 for `address/prefix` with a prefix valid for the family, else 0. */
export function cidrFamily(cidr: string): 0 | 4 | 6 {
  const slash = cidr.indexOf('/');
  if (slash < 0) return 0;
  const f = family(cidr.slice(0, slash));
  const prefix = cidr.slice(slash + 1);
  if (f === 0 || !/^\d{1,3}$/.test(prefix)) return 0;
  return Number(prefix) <= (f === 4 ? 32 : 128) ? f : 0;
}
