// Address math for IPv4 and IPv6: parsing, prefixes, host offsets, containment.
// Everything is family-generic; nothing here assumes IPv4.
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** A prefix in canonical form: `network` is the first address, host bits cleared. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: string;
  readonly prefixLength: number;
}

/** An address on an interface: the host address plus the prefix length of its subnet. */
export interface InterfaceAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefixLength: number;
}

export class AddressError extends Error {
  readonly code = 'TABBY_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

export function parseIp(text: string): { family: IpFamily; address: string } {
  if (typeof text !== 'string' || !ipaddr.isValid(text) || text.includes('/')) {
    throw new AddressError(`"${String(text)}" is not an IP address`);
  }
  if (text.includes('%')) throw new AddressError(`"${text}" has a zone index; give the address alone`);
  // ipaddr.isValid accepts shorthand like "10.1" and octal-ish forms; insist on the canonical
  // four-part dotted quad for IPv4 so that typos are not silently reinterpreted.
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw new AddressError(`"${text}" is not a dotted-quad IPv4 address`);
  }
  const parsed = ipaddr.parse(text);
  return { family: parsed.kind() === 'ipv4' ? 4 : 6, address: parsed.toString() };
}

function splitPrefix(text: string): { address: string; family: IpFamily; prefixLength: number } {
  if (typeof text !== 'string') throw new AddressError(`${String(text)} is not a CIDR`);
  const slash = text.indexOf('/');
  if (slash < 0) throw new AddressError(`"${text}" has no prefix length (expected address/length)`);
  const lenText = text.slice(slash + 1);
  const { family, address } = parseIp(text.slice(0, slash));
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bitsOf(family)) {
    throw new AddressError(`"${text}" has an invalid prefix length (0-${bitsOf(family)} for IPv${family})`);
  }
  return { family, address, prefixLength: Number(lenText) };
}

export function toBigInt(address: string): bigint {
  let value = 0n;
  for (const byte of ipaddr.parse(address).toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

export function fromBigInt(value: bigint, family: IpFamily): string {
  const bytes: number[] = [];
  let v = value;
  for (let i = 0; i < bitsOf(family) / 8; i++) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function hostMask(family: IpFamily, prefixLength: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixLength)) - 1n;
}

/** Parses a prefix. With `strict` (the default) host bits must be zero: "10.0.0.1/24" is rejected. */
export function parseCidr(text: string, opts: { strict?: boolean } = {}): Cidr {
  const { family, address, prefixLength } = splitPrefix(text);
  const value = toBigInt(address);
  const network = value & ~hostMask(family, prefixLength);
  if ((opts.strict ?? true) && network !== value) {
    throw new AddressError(
      `"${text}" has host bits set (the prefix is ${fromBigInt(network, family)}/${prefixLength})`,
    );
  }
  return { family, network: fromBigInt(network, family), prefixLength };
}

/** Parses "address/length" where the address is a host inside the prefix (e.g. "198.18.0.1/31"). */
export function parseInterfaceAddress(text: string): InterfaceAddress {
  return splitPrefix(text);
}

export const formatCidr = (c: Cidr): string => `${c.network}/${c.prefixLength}`;
export const formatInterfaceAddress = (a: InterfaceAddress): string => `${a.address}/${a.prefixLength}`;

export function cidrOf(a: InterfaceAddress): Cidr {
  return parseCidr(formatInterfaceAddress(a), { strict: false });
}

/** Number of addresses in the prefix. */
export function cidrSize(c: Cidr): bigint {
  return hostMask(c.family, c.prefixLength) + 1n;
}

/** The address `offset` positions after the network address. Throws when outside the prefix. */
export function addressAt(c: Cidr, offset: bigint | number): string {
  const off = BigInt(offset);
  if (off < 0n || off >= cidrSize(c)) {
    throw new AddressError(`offset ${off} is outside ${formatCidr(c)}`);
  }
  return fromBigInt(toBigInt(c.network) + off, c.family);
}

/**
 * The two addresses a point-to-point link uses inside `c`: both addresses of a /31 or /127
 * (RFC 3021, RFC 6164), otherwise the first two host addresses.
 */
export function pointToPointAddresses(c: Cidr): [InterfaceAddress, InterfaceAddress] {
  const size = cidrSize(c);
  const p2p = c.prefixLength === bitsOf(c.family) - 1;
  if (size < 2n || (!p2p && size < 4n)) {
    throw new AddressError(`${formatCidr(c)} is too small for two hosts`);
  }
  const first = p2p ? 0n : 1n;
  const mk = (off: bigint): InterfaceAddress => ({
    family: c.family,
    address: addressAt(c, off),
    prefixLength: c.prefixLength,
  });
  return [mk(first), mk(first + 1n)];
}

export function cidrContains(c: Cidr, address: string): boolean {
  const p = parseIp(address);
  if (p.family !== c.family) return false;
  return (toBigInt(p.address) & ~hostMask(c.family, c.prefixLength)) === toBigInt(c.network);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefixLength <= b.prefixLength ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, longer.network);
}

/** Position of `address` inside `c` (0 for the network address). Throws when outside. */
export function offsetIn(c: Cidr, address: string): bigint {
  if (!cidrContains(c, address)) throw new AddressError(`${address} is outside ${formatCidr(c)}`);
  return toBigInt(parseIp(address).address) - toBigInt(c.network);
}

/** Number of subnets of length `prefixLength` inside `c`. */
export function subnetCount(c: Cidr, prefixLength: number): bigint {
  if (prefixLength < c.prefixLength || prefixLength > bitsOf(c.family)) {
    throw new AddressError(`/${prefixLength} subnets do not fit in ${formatCidr(c)}`);
  }
  return 1n << BigInt(prefixLength - c.prefixLength);
}

/** The `index`-th subnet of length `prefixLength` inside `c`. */
export function subnetAt(c: Cidr, prefixLength: number, index: bigint | number): Cidr {
  const i = BigInt(index);
  if (i < 0n || i >= subnetCount(c, prefixLength)) {
    throw new AddressError(`subnet ${i} of /${prefixLength} is outside ${formatCidr(c)}`);
  }
  const step = 1n << BigInt(bitsOf(c.family) - prefixLength);
  return { family: c.family, network: fromBigInt(toBigInt(c.network) + i * step, c.family), prefixLength };
}
