// CHECK: the pod's wiring as it is in the kernel and IPAM right now, against prevResult: the
// host veth (up, tabby's, proxy ARP on), the host /32 route with tabby's protocol, the pod's
// interface (up, its addresses, the on-link gateway and default routes), and IPAM holding
// exactly these addresses for the attachment. The first difference is the error.
import { type AgentRequest, CNI_ERROR, POD_GATEWAY_V4, POD_GATEWAY_V6 } from '../../cni/protocol.js';
import { hostLink, ipJson, isKernelErrno, readPodInterface, readSysctl } from '../../kernel/index.js';
import { AgentError } from '../errors.js';
import { parseAlias } from '../naming.js';
import type { VerbContext } from './context.js';
import { withAttachment } from './locking.js';
import { attachmentOf, netnsOf } from './request.js';

const fail = (msg: string) => new AgentError(CNI_ERROR.checkFailed, msg);
const hostOf = (cidr: string) => cidr.split('/')[0] as string;

export async function check(ctx: VerbContext, req: AgentRequest): Promise<void> {
  const { containerId, ifname } = attachmentOf(req);
  const prev = req.prevResult;
  if (!prev) throw new AgentError(CNI_ERROR.invalidConfig, 'prevResult: required for CHECK');
  const netns = netnsOf(req, 'CHECK');
  await withAttachment(ctx, containerId, ifname, async () => {
    const w = ctx.workloads.get(containerId, ifname);
    if (!w) throw fail(`container ${containerId} has no tabby interface ${ifname}`);
    const podIndex = prev.interfaces.findIndex((i) => i.name === ifname && i.sandbox);
    const expected = prev.ips
      .filter((ip) => ip.interface === undefined || ip.interface === podIndex)
      .map((ip) => hostOf(ip.address))
      .sort();
    const actual = w.addresses.map((a) => a.address).sort();
    if (expected.join() !== actual.join()) {
      throw fail(
        `prevResult.ips ${expected.join(', ') || '(none)'} differ from the pod's addresses ${actual.join(', ')}`,
      );
    }

    const [link, proxyArp, podSide, held] = await Promise.all([
      hostLink(w.hostVeth),
      readSysctl(`net/ipv4/conf/${w.hostVeth}/proxy_arp`),
      readPodInterface(netns, ifname).catch((e: unknown) => {
        if (isKernelErrno(e, 'ENOENT')) throw fail(`CNI_NETNS ${netns}: the pod's network namespace is gone`);
        throw e;
      }),
      ctx.ipam.addressesOf(w.handle, ctx.node),
    ]);
    if (!link) throw fail(`host interface ${w.hostVeth} is missing`);
    if (!link.flags.includes('UP')) throw fail(`host interface ${w.hostVeth} is down`);
    if (parseAlias(link.ifalias)?.containerId !== containerId)
      throw fail(`host interface ${w.hostVeth} belongs to another container`);
    if (w.addresses.some((a) => a.family === 4) && proxyArp !== '1')
      throw fail(`proxy_arp is off on ${w.hostVeth}`);

    for (const a of w.addresses) {
      const bits = a.family === 4 ? 32 : 128;
      const routes = await ipJson<{ dev?: string; protocol?: string | number }[]>(undefined, [
        `-${a.family}`,
        'route',
        'show',
        'table',
        'main',
        `${a.address}/${bits}`,
      ]);
      const ours = routes.find(
        (r) => r.dev === w.hostVeth && String(r.protocol) === String(ctx.routeProtocol),
      );
      if (!ours)
        throw fail(`host route ${a.address}/${bits} dev ${w.hostVeth} proto ${ctx.routeProtocol} is missing`);
    }

    if (!podSide.link) throw fail(`${ifname} is missing in ${netns}`);
    if (!podSide.link.flags.includes('UP')) throw fail(`${ifname} is down in ${netns}`);
    for (const a of w.addresses) {
      const bits = a.family === 4 ? 32 : 128;
      if (!podSide.addresses.some((p) => p.address === a.address && p.prefixLength === bits)) {
        throw fail(`${ifname} in ${netns} lacks ${a.address}/${bits}`);
      }
    }
    if (w.addresses.some((a) => a.family === 4)) {
      if (!podSide.routes.some((r) => r.dst === POD_GATEWAY_V4 && r.dev === ifname && r.scope === 'link')) {
        throw fail(`route ${POD_GATEWAY_V4} dev ${ifname} scope link is missing in ${netns}`);
      }
      if (!podSide.routes.some((r) => r.dst === 'default' && r.gateway === POD_GATEWAY_V4)) {
        throw fail(`default route via ${POD_GATEWAY_V4} is missing in ${netns}`);
      }
    }
    if (w.addresses.some((a) => a.family === 6)) {
      if (!podSide.routes.some((r) => r.dst === 'default' && r.gateway === POD_GATEWAY_V6)) {
        throw fail(`default route via ${POD_GATEWAY_V6} is missing in ${netns}`);
      }
    }

    const ipamHeld = held.map((h) => h.address).sort();
    if (ipamHeld.join() !== actual.join()) {
      throw fail(
        `IPAM holds ${ipamHeld.join(', ') || 'nothing'} for ${w.handle}, the pod has ${actual.join(', ')}`,
      );
    }
  });
}
