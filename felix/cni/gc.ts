// GC (spec 1.1): everything of this network on this node that is not a valid attachment goes —
// wired pods (veth, routes, addresses) and addresses whose wiring never happened (an ADD that
// failed, a crash). Carries on past individual failures and reports them together.
import { type AgentRequest, CNI_ERROR } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';
import { handleFor, handleInNetwork } from '../naming.js';
import { attachmentKey } from '../workloads.js';
import type { VerbContext } from './context.js';
import { forgetWorkload } from './teardown.js';

export async function gc(ctx: VerbContext, req: AgentRequest): Promise<void> {
  const network = req.conf?.network;
  if (!network) throw new AgentError(CNI_ERROR.invalidConfig, 'name: required for GC');
  const valid = new Set((req.validAttachments ?? []).map((a) => handleFor(network, a.containerId, a.ifname)));
  const failures: string[] = [];
  let removed = 0;

  for (const w of ctx.workloads.all()) {
    if (w.network !== network || valid.has(w.handle)) continue;
    try {
      await ctx.locks.run(attachmentKey(w.containerId, w.ifname), async () => {
        await forgetWorkload(ctx, w);
        await ctx.ipam.releaseByHandle(w.handle, ctx.node);
      });
      removed++;
    } catch (e) {
      failures.push(`${w.handle}: ${(e as Error).message}`);
    }
  }

  // Addresses held by this node for the network without a wired pod.
  const index = await ctx.ipam.ds.ipamHandles.get(ctx.node);
  for (const handle of Object.keys(index?.spec.handles ?? {})) {
    if (!handleInNetwork(handle, network) || valid.has(handle)) continue;
    if (ctx.workloads.all().some((w) => w.handle === handle)) continue; // wired after all (a concurrent ADD)
    try {
      await ctx.ipam.releaseByHandle(handle, ctx.node);
      removed++;
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
