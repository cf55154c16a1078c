// DEL: best effort and idempotent. The veth goes (if it is still this container's), the host
// routes leave the desired state, and the addresses are released — in parallel, since deleting
// a veth waits ~20 ms on the kernel (synchronize_net). A missing netns, an unknown container or
// a second DEL all succeed.
import type { AgentRequest } from '../../cni/protocol.js';
import { handleFor, vethName } from '../naming.js';
import { attachmentKey } from '../workloads.js';
import type { VerbContext } from './context.js';
import { attachmentOf } from './request.js';
import { deleteVethIfOwned, forgetWorkload } from './teardown.js';

export async function del(ctx: VerbContext, req: AgentRequest): Promise<void> {
  const { containerId, ifname, network } = attachmentOf(req);
  await ctx.locks.run(attachmentKey(containerId, ifname), async () => {
    const handle = handleFor(network, containerId, ifname);
    const w = ctx.workloads.get(containerId, ifname);
    const unwire: Promise<unknown> = w
      ? forgetWorkload(ctx, w)
      : // Not in the table (an ADD that failed early, or state lost): check the kernel by name.
        deleteVethIfOwned(vethName(ctx.interfacePrefix, containerId, ifname, req.pod), containerId, ifname);
    const t0 = performance.now();
    const timed = <T>(p: Promise<T>) =>
      p.then((v) => ({ v, ms: Math.round((performance.now() - t0) * 10) / 10 }));
    const [veth, release] = await Promise.all([
      timed(unwire),
      timed(ctx.ipam.releaseByHandle(handle, ctx.node)),
    ]);
    ctx.log.info(
      { containerId, ifname, released: release.v.released, ms: { veth: veth.ms, ipam: release.ms } },
      'pod unwired',
    );
  });
}
