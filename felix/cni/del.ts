// DEL: best effort and idempotent. The veth goes (if it is still this container's), the host
// routes leave the desired state, and the addresses are released — in parallel, since deleting
// a veth waits ~20 ms on the kernel (synchronize_net). A missing netns, an unknown container or
// a second DEL all succeed. A step that fails makes the DEL fail (the runtime retries it), after
// the other step has run.
import type { AgentRequest } from '../../cni/protocol.js';
import { handleFor, vethName } from '../naming.js';
import type { VerbContext } from './context.js';
import { withAttachment, withVeth } from './locking.js';
import { attachmentOf } from './request.js';
import { deleteVethIfOwned, forgetWorkload } from './teardown.js';

export async function del(ctx: VerbContext, req: AgentRequest): Promise<void> {
  const { containerId, ifname, network } = attachmentOf(req);
  await withAttachment(ctx, containerId, ifname, async () => {
    const handle = handleFor(network, containerId, ifname);
    const w = ctx.workloads.get(containerId, ifname);
    // Not in the table (an ADD that failed early, or state lost): the kernel by name decides.
    const hostVeth = w?.hostVeth ?? vethName(ctx.interfacePrefix, containerId, ifname, req.pod);
    await withVeth(ctx, hostVeth, async () => {
      const t0 = performance.now();
      const timed = <T>(p: Promise<T>) =>
        p.then((v) => ({ v, ms: Math.round((performance.now() - t0) * 10) / 10 }));
      const [veth, release] = await Promise.allSettled([
        timed<unknown>(w ? forgetWorkload(ctx, w) : deleteVethIfOwned(hostVeth, containerId, ifname)),
        timed(ctx.ipam.releaseByHandle(handle, ctx.node)),
      ]);
      if (veth.status === 'rejected') throw veth.reason;
      if (release.status === 'rejected') throw release.reason;
      ctx.log.info(
        {
          containerId,
          ifname,
          released: release.value.v.released,
          ms: { veth: veth.value.ms, ipam: release.value.ms },
        },
        'pod unwired',
      );
    });
  });
}
