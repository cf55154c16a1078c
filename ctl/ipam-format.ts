// Text for `tabby ipam show` and `tabby ipam check`. Pure.
import { cidrSize, formatCidr, parseCidr } from '../common/addr.js';
import { table } from '../common/table.js';
import { allocatedCount } from '../ipam/block.js';
import type { CheckReport, IpamSnapshot } from '../ipam/index.js';
import { poolHoldsBlock, readPools } from '../ipam/pools.js';

/** Per pool: size, blocks, addresses in use; with `blocks`, one line per block as well. */
export function formatIpamShow(s: IpamSnapshot, opts: { blocks?: boolean } = {}): string {
  const { pools } = readPools(s.pools);
  const rows = [['POOL', 'CIDR', 'BLOCK', 'BLOCKS', 'ADDRESSES', 'IN USE', 'STATE']];
  for (const p of pools) {
    const blocks = s.blocks.filter((b) => poolHoldsBlock(p, parseCidr(b.spec.cidr)));
    const inUse = blocks.reduce((n, b) => n + allocatedCount(b.spec), 0);
    rows.push([
      p.name,
      formatCidr(p.cidr),
      `/${p.blockSize}`,
      String(blocks.length),
      String(cidrSize(p.cidr)),
      String(inUse),
      p.disabled ? 'disabled' : 'enabled',
    ]);
  }
  let out = table(rows);
  if (opts.blocks) {
    const blockRows = [['BLOCK', 'AFFINITY', 'STATE', 'IN USE', 'SIZE', 'BORROWED BY']];
    for (const b of [...s.blocks].sort((x, y) => x.spec.cidr.localeCompare(y.spec.cidr))) {
      const affinity = s.affinities.find((a) => a.spec.cidr === b.spec.cidr);
      const borrowers = new Set(
        b.spec.attributes.map((a) => a.node).filter((n): n is string => !!n && n !== b.spec.affinity),
      );
      blockRows.push([
        b.spec.cidr,
        b.spec.affinity ?? '-',
        affinity?.spec.state ?? '-',
        String(allocatedCount(b.spec)),
        String(b.spec.allocations.length),
        [...borrowers].sort().join(',') || '-',
      ]);
    }
    out += `\n\n${table(blockRows)}`;
  }
  return out;
}

export function formatCheck(r: CheckReport): string {
  const head = `${r.pools} pools, ${r.blocks} blocks, ${r.allocated} addresses in use, ${r.handles} handles`;
  if (r.ok) return `${head}: consistent`;
  const lines = r.problems.map((p) => `  ${p.kind}: ${p.message}`);
  return `${head}: ${r.problems.length} problem(s)\n${lines.join('\n')}`;
}
