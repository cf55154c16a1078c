// The gobgpd policies of one node (pure): what it exports and what it accepts.
//
// Export (default reject): this node's own routes (its blocks, exact, and the host routes of the
// addresses it borrowed). A route reflector also passes cluster routes learned over iBGP on to
// its node peers (and to them only), so it can reflect.
//
// Import (default reject), in order:
//   1. accept routes originated here (gobgpd runs the global import policy on them too);
//   2. reject the default route (0.0.0.0/0, ::/0);
//   3. accept the host routes of addresses other nodes borrowed (exact /32, /128) — before 4,
//      because an address borrowed from one of this node's blocks must route to the borrower;
//   4. reject this node's blocks and anything longer inside them (nobody else announces those);
//   5. accept cluster routes: blocks of exactly the pool's block size inside each pool;
//   6. accept, per BGPPeer with allowedPrefixes, those prefixes (or longer) from that peer only.
//
// Every defined set is single-family and named `tabby-<role>-v<family>-<hash of its entries>`;
// a policy is `tabby-<direction>-<hash of its statements>` (statements name sets, so a changed
// set changes the policy's name too). A changed set or policy is therefore a new object: the
// reconciler adds the new one, re-assigns, then deletes the old one (make-before-break).
// No statement names an empty set: such statements are left out.
import { createHash } from 'node:crypto';
import { type Cidr, formatCidr, type IpFamily, toBigInt } from '../common/addr.js';
import type { DefinedSet, Policy, PolicyAssignment, PolicyStatement, PrefixMatch } from './gobgp-api.js';

export interface PolicyInputs {
  /** Blocks affine to this node. */
  ownBlocks: Cidr[];
  /** Host routes of the addresses this node borrowed. */
  ownHosts: Cidr[];
  /** Every pool with its block size. */
  pools: { cidr: Cidr; blockSize: number }[];
  /** Host routes of the addresses other nodes borrowed. */
  borrowedElsewhere: Cidr[];
  /** Set on a route reflector: its node peers, by family (cluster routes are passed on to them). */
  reflectTo?: Record<IpFamily, string[]>;
  /** BGPPeers that may send prefixes outside the pools. */
  allowed: { address: string; family: IpFamily; prefixes: Cidr[] }[];
}

export interface PolicyOutput {
  definedSets: DefinedSet[];
  policies: Policy[];
  importAssignment: PolicyAssignment;
  exportAssignment: PolicyAssignment;
}

const FAMILIES = [4, 6] as const;
const bits = (f: IpFamily) => (f === 4 ? 32 : 128);

export const contentHash = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);

const exact = (c: Cidr): PrefixMatch => ({
  prefix: formatCidr(c),
  minLength: c.prefixLength,
  maxLength: c.prefixLength,
});
const orLonger = (c: Cidr): PrefixMatch => ({
  prefix: formatCidr(c),
  minLength: c.prefixLength,
  maxLength: bits(c.family),
});

function compareMatch(a: PrefixMatch, b: PrefixMatch): number {
  const [na = '', la = '0'] = a.prefix.split('/');
  const [nb = '', lb = '0'] = b.prefix.split('/');
  const x = toBigInt(na);
  const y = toBigInt(nb);
  if (x !== y) return x < y ? -1 : 1;
  return Number(la) - Number(lb) || a.minLength - b.minLength || a.maxLength - b.maxLength;
}

/** Collects the defined sets the statements name (deduplicated, sorted, never empty). */
class Sets {
  private readonly byName = new Map<string, DefinedSet>();

  prefix(role: string, family: IpFamily, matches: PrefixMatch[]): string | undefined {
    if (matches.length === 0) return undefined;
    const unique = new Map(matches.map((m) => [`${m.prefix} ${m.minLength} ${m.maxLength}`, m]));
    const prefixes = [...unique.values()].sort(compareMatch);
    const name = `tabby-${role}-v${family}-${contentHash(prefixes)}`;
    this.byName.set(name, { type: 'prefix', name, prefixes });
    return name;
  }

  neighbor(role: string, family: IpFamily, addresses: string[]): string | undefined {
    if (addresses.length === 0) return undefined;
    const list = [...new Set(addresses)].sort((a, b) => {
      const x = toBigInt(a);
      const y = toBigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const name = `tabby-${role}-v${family}-${contentHash(list)}`;
    this.byName.set(name, { type: 'neighbor', name, addresses: list });
    return name;
  }

  all(): DefinedSet[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

type Draft = { role: string } & Omit<PolicyStatement, 'name'>;

/** A policy named after its statements' content; statement names (global in gobgpd) derive from it. */
function policy(direction: 'import' | 'export', drafts: Draft[]): Policy {
  const name = `tabby-${direction}-${contentHash(drafts)}`;
  return {
    name,
    statements: drafts.map(({ role, conditions, action }) => ({
      name: `${name}-${role}`,
      conditions,
      action,
    })),
  };
}

export function buildPolicies(input: PolicyInputs): PolicyOutput {
  const sets = new Sets();
  const of = <T extends { family: IpFamily }>(list: T[], f: IpFamily) => list.filter((x) => x.family === f);
  const imports: Draft[] = [{ role: 'accept-local', conditions: { routeType: 'local' }, action: 'accept' }];
  const exports: Draft[] = [];
  const blockSets: Partial<Record<IpFamily, string>> = {};
  const borrowedSets: Partial<Record<IpFamily, string>> = {};

  for (const f of FAMILIES) {
    const defaultRoute = sets.prefix('default', f, [
      exact({ family: f, network: f === 4 ? '0.0.0.0' : '::', prefixLength: 0 }),
    ]);
    imports.push({ role: `reject-default-v${f}`, conditions: { prefixSet: defaultRoute }, action: 'reject' });
  }
  for (const f of FAMILIES) {
    borrowedSets[f] = sets.prefix('borrowed', f, of(input.borrowedElsewhere, f).map(exact));
    if (borrowedSets[f])
      imports.push({
        role: `accept-borrowed-v${f}`,
        conditions: { prefixSet: borrowedSets[f] },
        action: 'accept',
      });
  }
  for (const f of FAMILIES) {
    const own = sets.prefix('own-orlonger', f, of(input.ownBlocks, f).map(orLonger));
    if (own) imports.push({ role: `reject-own-v${f}`, conditions: { prefixSet: own }, action: 'reject' });
  }
  for (const f of FAMILIES) {
    const pools = input.pools.filter((p) => p.cidr.family === f);
    blockSets[f] = sets.prefix(
      'blocks',
      f,
      pools.map((p) => ({ prefix: formatCidr(p.cidr), minLength: p.blockSize, maxLength: p.blockSize })),
    );
    if (blockSets[f])
      imports.push({
        role: `accept-blocks-v${f}`,
        conditions: { prefixSet: blockSets[f] },
        action: 'accept',
      });
  }
  const allowed = [...input.allowed].sort(
    (x, y) => x.family - y.family || x.address.localeCompare(y.address),
  );
  for (const [i, a] of allowed.entries()) {
    const neighborSet = sets.neighbor('peer', a.family, [a.address]);
    const prefixSet = sets.prefix('allowed', a.family, of(a.prefixes, a.family).map(orLonger));
    if (!neighborSet || !prefixSet) continue;
    imports.push({
      role: `accept-allowed-${i}`,
      conditions: { prefixSet, neighborSet },
      action: 'accept',
    });
  }

  for (const f of FAMILIES) {
    const own = sets.prefix('own', f, [...of(input.ownBlocks, f), ...of(input.ownHosts, f)].map(exact));
    if (own) exports.push({ role: `accept-own-v${f}`, conditions: { prefixSet: own }, action: 'accept' });
  }
  if (input.reflectTo) {
    for (const f of FAMILIES) {
      const neighborSet = sets.neighbor('nodes', f, input.reflectTo[f]);
      if (!neighborSet) continue;
      for (const [role, prefixSet] of [
        ['reflect-borrowed', borrowedSets[f]],
        ['reflect-blocks', blockSets[f]],
      ] as const) {
        if (!prefixSet) continue;
        exports.push({
          role: `${role}-v${f}`,
          conditions: { prefixSet, neighborSet, routeType: 'internal' },
          action: 'accept',
        });
      }
    }
  }

  const importPolicy = policy('import', imports);
  const exportPolicy = exports.length > 0 ? policy('export', exports) : undefined;
  return {
    definedSets: sets.all(),
    policies: exportPolicy ? [importPolicy, exportPolicy] : [importPolicy],
    importAssignment: { direction: 'import', policies: [importPolicy.name], defaultAction: 'reject' },
    exportAssignment: {
      direction: 'export',
      policies: exportPolicy ? [exportPolicy.name] : [],
      defaultAction: 'reject',
    },
  };
}
