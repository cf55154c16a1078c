// GC (spec 1.1): everything of this network on this node that is not a valid attachment goes —
// wired pods (veth, routes, addresses) and addresses whose wiring never happened (an ADD that
// failed, a crash). Each attachment is handled under its own locks and re-checked there, so a
// GC that overlaps an ADD (which the spec forbids, but a second client might do) cannot free
// the addresses that ADD is wiring. Carries on past failures and reports them together.
import { type AgentRequest, CNI_ERROR } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';
import { attachmentOfHandle, handleFor } from '../naming.js';
import type { VerbContext } from './context.js';
import { withAttachment, withVeth } from './locking.js';
import { networkOf } from './request.js';
import { forgetWorkload } from './teardown.js';

export async function gc(ctx: VerbContext, req: AgentRequest): Promise<void> {
  const network = networkOf(req);
  const valid = new Set((req.validAttachments ?? []).map((a) => handleFor(network, a.containerId, a.ifname)));
  if (req.validAttachments === undefined || req.validAttachments.length === 0) {
    ctx.log.warn(
      { network },
      'GC without valid attachments: every attachment of the network on this node goes',
    );
  }
  const failures: string[] = [];
  let removed = 0;

  for (const w of ctx.workloads.all()) {
    if (w.network !== network || valid.has(w.handle)) continue;
    try {
      const done = await withAttachment(ctx, w.containerId, w.ifname, () =>
        withVeth(ctx, w.hostVeth, async () => {
          if (ctx.workloads.get(w.containerId, w.ifname) !== w) return false; // changed meanwhile
          await forgetWorkload(ctx, w);
          await ctx.ipam.releaseByHandle(w.handle, ctx.node);
          return true;
        }),
      );
      if (done) removed++;
    } catch (e) {
      failures.push(`${w.handle}: ${(e as Error).message}`);
    }
  }

  // Addresses held by this node for the network without a wired pod.
  const index = await ctx.ipam.ds.ipamHandles.get(ctx.node);
  for (const handle of Object.keys(index?.spec.handles ?? {})) {
    const attachment = attachmentOfHandle(handle, network);
    if (!attachment || valid.has(handle)) continue;
    try {
      const done = await withAttachment(ctx, attachment.containerId, attachment.ifname, async () => {
        if (ctx.workloads.get(attachment.containerId, attachment.ifname)) return false; // wired meanwhile
        await ctx.ipam.releaseByHandle(handle, ctx.node);
        return true;
      });
      if (done) removed++;
    } catch (e) {
      failures.push(`${handle}: ${(e as Error).message}`);
    }
  }
  ctx.log.info({ network, valid: valid.size, removed, failed: failures.length }, 'GC done');
  if (failures.length > 0) {
    throw new AgentError(
      CNI_ERROR.tryAgainLater,
      `GC: ${failures.length} attachment(s) not cleaned`,
      failures.join('; '),
    );
  }
}
