// Taking a pod's wiring down (shared by DEL, GC and ADD replacing an older sandbox): routes out
// of the desired state first (so the reconciler never re-adds them), then the veth — its pod
// end and the kernel's routes through it go with it. Addresses are released by the callers.
import { deleteLink, hostLink } from '../../kernel/index.js';
import { parseAlias } from '../naming.js';
import { localRoutes } from '../pod-routes.js';
import type { Workload } from '../workloads.js';
import type { VerbContext } from './context.js';

export async function forgetWorkload(ctx: VerbContext, w: Workload): Promise<void> {
  ctx.workloads.delete(w);
  for (const r of localRoutes([w])) ctx.routes.remove('local', r.family, r.dst);
  await deleteLink(w.hostVeth);
  void ctx.routes.flush().catch(() => {});
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
