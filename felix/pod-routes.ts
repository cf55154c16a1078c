// What the FIB should hold for this node's own pods and blocks. Pure.
import { parseCidr } from '../common/addr.js';
import type { Route } from './routes/types.js';
import type { Workload } from './workloads.js';

/** `<pod ip>/32 dev <host veth> scope link` (/128 for IPv6) for every address of every pod. */
export function localRoutes(workloads: Iterable<Workload>): Route[] {
  const out: Route[] = [];
  for (const w of workloads) {
    for (const a of w.addresses) {
      out.push({
        family: a.family,
        dst: `${a.address}/${a.family === 4 ? 32 : 128}`,
        type: 'unicast',
        dev: w.hostVeth,
        scope: 'link',
      });
    }
  }
  return out;
}

/**
 * `blackhole <block>` for every block affine to the node: traffic to an address of the block that
 * no pod holds is dropped here instead of following the default route back out. Pod /32s are
 * longer and win. None for /32 or /128 blocks (the pod route is the whole block).
 */
export function blackholeRoutes(blocks: Iterable<string>): Route[] {
  const out: Route[] = [];
  for (const b of blocks) {
    const c = parseCidr(b);
    if (c.prefixLength === (c.family === 4 ? 32 : 128)) continue;
    out.push({ family: c.family, dst: `${c.network}/${c.prefixLength}`, type: 'blackhole' });
  }
  return out;
}
