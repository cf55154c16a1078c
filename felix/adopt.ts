// Restart safety: the pods a previous incarnation wired are read back from the kernel — every
// host veth with tabby's prefix carries an alias naming its attachment and addresses — so the
// first reconciliation finds the FIB already right and changes nothing (no flap). IPAM is
// consulted only to report disagreements; nothing is deleted at start (GC does that).
import { parseIp } from '../common/addr.js';
import { listHostLinks } from '../kernel/index.js';
import type { Log } from './log.js';
import { handleFor, parseAlias } from './naming.js';
import type { Workload } from './workloads.js';

export async function adoptWorkloads(prefix: string, log: Log): Promise<Workload[]> {
  const out: Workload[] = [];
  for (const link of await listHostLinks(prefix)) {
    const owner = parseAlias(link.ifalias);
    if (!owner) {
      log.warn(
        { hostVeth: link.ifname, alias: link.ifalias },
        'interface with tabby prefix but no tabby alias: left alone',
      );
      continue;
    }
    const addresses = [];
    for (const a of owner.addresses) {
      try {
        const ip = parseIp(a);
        addresses.push({ family: ip.family, address: ip.address });
      } catch {
        log.warn({ hostVeth: link.ifname, address: a }, 'unparsable address in veth alias: skipped');
      }
    }
    out.push({
      network: owner.network,
      containerId: owner.containerId,
      ifname: owner.ifname,
      hostVeth: link.ifname,
      handle: handleFor(owner.network, owner.containerId, owner.ifname),
      addresses,
    });
  }
  return out;
}

/**
 * Compares adopted pods with the node's handle index and logs what disagrees: a pod whose handle
 * IPAM does not know (its addresses may be handed out again), and two pods claiming one address.
 * Reports only — DEL and GC are what change state.
 */
export async function reportAdoptionDrift(
  workloads: Workload[],
  indexed: ReadonlySet<string>,
  log: Log,
): Promise<number> {
  let drift = 0;
  const byAddress = new Map<string, Workload>();
  for (const w of workloads) {
    if (!indexed.has(w.handle)) {
      drift++;
      log.warn({ handle: w.handle, hostVeth: w.hostVeth }, 'adopted pod has no IPAM handle on this node');
    }
    for (const a of w.addresses) {
      const other = byAddress.get(a.address);
      if (other) {
        drift++;
        log.error(
          { address: a.address, pods: [other.handle, w.handle] },
          'two adopted pods claim one address',
        );
      }
      byAddress.set(a.address, w);
    }
  }
  return drift;
}
