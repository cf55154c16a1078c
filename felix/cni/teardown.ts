// Taking a pod's wiring down (shared by DEL, GC and ADD replacing an older sandbox). The veth
// goes first — its pod end and the kernel's routes through it go with it — and only then the
// workload and its routes leave the desired state, so a veth the kernel refused to delete stays
// known (GC and the next DEL retry it). Callers hold the veth's lock; addresses are theirs to
// release.
import { deleteLink, hostLink } from '../../kernel/index.js';
import { parseAlias } from '../naming.js';
import { localRoutes } from '../pod-routes.js';
import type { Workload } from '../workloads.js';
import type { VerbContext } from './context.js';

export async function forgetWorkload(ctx: VerbContext, w: Workload): Promise<void> {
  await deleteLink(w.hostVeth);
  unrouteWorkload(ctx, w);
  void ctx.routes.flush().catch(() => {});
}

/**
 * Drops `w` from the table and its /32s from the desired routes — except an address another
 * workload also claims (state gone wrong: a stale veth next to the live one), whose route then
 * points at that other workload instead of vanishing.
 */
export function unrouteWorkload(ctx: VerbContext, w: Workload): void {
  ctx.workloads.delete(w);
  for (const r of localRoutes([w])) {
    const address = r.dst.split('/')[0] as string;
    const other = ctx.workloads.holderOf(address, w);
    if (other) {
      for (const o of localRoutes([other])) if (o.dst === r.dst) ctx.routes.upsert('local', o);
    } else {
      ctx.routes.remove('local', r.family, r.dst);
    }
  }
}

/**
 * Deletes `hostVeth` only if the kernel says it belongs to this attachment (its alias): the name
 * is per pod, so it may already belong to a newer sandbox of the same pod.
 */
export async function deleteVethIfOwned(
  hostVeth: string,
  containerId: string,
  ifname: string,
): Promise<boolean> {
  const link = await hostLink(hostVeth);
  const owner = parseAlias(link?.ifalias);
  if (!link || !owner || owner.containerId !== containerId || owner.ifname !== ifname) return false;
  return deleteLink(hostVeth);
}
