// ADD: addresses from IPAM; the veth pair with the pod end born in the pod's namespace, the host
// end aliased with its owner and addresses; then, in parallel, the host end's sysctls (proxy
// ARP, forwarding), the pod's /32 + on-link gateway + default route, and the host's
// `/32 dev <veth>` route through the route table — which must then really be in the kernel.
// Any failure undoes everything this ADD did (veth, routes, addresses) before answering.
import { existsSync } from 'node:fs';
import {
  type AgentRequest,
  CNI_ERROR,
  type CniResult,
  HOST_VETH_MAC,
  POD_GATEWAY_V4,
  POD_GATEWAY_V6,
} from '../../cni/protocol.js';
import {
  configurePodInterface,
  createPodVeth,
  deleteLink,
  hostLink,
  isKernelErrno,
  setLinkUp,
  writeSysctls,
} from '../../kernel/index.js';
import { AgentError } from '../errors.js';
import { aliasFor, handleFor, parseAlias, randomPodMac, vethName } from '../naming.js';
import { localRoutes } from '../pod-routes.js';
import type { Workload } from '../workloads.js';
import type { VerbContext } from './context.js';
import { withAttachment, withVeth } from './locking.js';
import { attachmentOf, ipamOf, netnsOf } from './request.js';
import { forgetWorkload, unrouteWorkload } from './teardown.js';

export async function add(ctx: VerbContext, req: AgentRequest): Promise<CniResult> {
  const { containerId, ifname, network } = attachmentOf(req);
  const netns = netnsOf(req, 'ADD');
  const ipam = ipamOf(req);
  const hostVeth = vethName(ctx.interfacePrefix, containerId, ifname, req.pod);
  return withAttachment(ctx, containerId, ifname, () =>
    withVeth(ctx, hostVeth, async () => {
      if (!existsSync(netns))
        throw new AgentError(CNI_ERROR.dataplane, `CNI_NETNS ${netns}: no such network namespace`);
      const existing = ctx.workloads.get(containerId, ifname);
      if (existing) {
        throw new AgentError(
          CNI_ERROR.interfaceExists,
          `CNI_IFNAME ${ifname}: container ${containerId} already has it (host side ${existing.hostVeth}); DEL it first`,
        );
      }
      // An earlier sandbox of the same pod whose DEL has not come yet holds the name: its wiring
      // goes now (its DEL will still release its addresses, and will not touch ours).
      const previous = ctx.workloads.byVeth(hostVeth);
      if (previous) {
        ctx.log.info(
          { hostVeth, previous: previous.containerId, containerId },
          'replacing the wiring of an older sandbox',
        );
        await forgetWorkload(ctx, previous);
      }

      const t0 = performance.now();
      const handle = handleFor(network, containerId, ifname);
      const assigned = await ctx.ipam.assign(handle, ctx.node, {
        v4: ipam.assignIpv4 ? 1 : 0,
        v6: ipam.assignIpv6 ? 1 : 0,
        pool: ipam.pools.length > 0 ? ipam.pools : undefined,
        attrs: { namespace: req.pod?.namespace, pod: req.pod?.name },
      });
      const tIpam = performance.now();
      const addresses = assigned.addresses.map((a) => ({ family: a.family, address: a.address }));
      const ipv6 = addresses.some((a) => a.family === 6);
      const workload: Workload = { network, containerId, ifname, hostVeth, handle, addresses, pod: req.pod };
      const mtu = req.conf.mtu || ctx.mtu;
      const podMac = randomPodMac();
      let vethCreated = false;
      let tVeth = 0;
      try {
        const alias = aliasFor({ network, containerId, ifname, addresses: addresses.map((a) => a.address) });
        await createVeth(hostVeth, netns, ifname, mtu, podMac, alias, !ipv6, () => {
          vethCreated = true;
        });
        vethCreated = true;
        tVeth = performance.now();
        if (ipv6) {
          // The gateway is the host end's link-local address: no DAD on it, forwarding on, then up.
          await ctx.ensureIpv6Forwarding();
          await writeSysctls(hostSysctls(hostVeth, true));
          await setLinkUp(hostVeth);
        }
        ctx.workloads.set(workload);
        for (const r of localRoutes([workload])) ctx.routes.upsert('local', r);
        await Promise.all([
          ipv6 ? undefined : writeSysctls(hostSysctls(hostVeth, false)),
          configurePodInterface(netns, ifname, addresses, { 4: POD_GATEWAY_V4, 6: POD_GATEWAY_V6 }),
          ctx.routes.flush(),
        ]);
        for (const r of localRoutes([workload])) {
          const state = ctx.routes.routeState(r.family, r.dst);
          if (state !== 'installed') {
            throw new AgentError(
              CNI_ERROR.dataplane,
              `host route ${r.dst} dev ${hostVeth}: ${state === 'conflict' ? 'a route tabby does not own holds this destination' : `not installed (${state})`}`,
            );
          }
        }
      } catch (e) {
        await rollback(ctx, workload, vethCreated);
        throw e;
      }
      // The blackhole of a newly claimed block: an optimisation, never a reason to fail the pod.
      if (assigned.addresses.some((a) => !ctx.blocks.has(a.block))) {
        ctx.blocks
          .refresh()
          .catch((e: unknown) => ctx.log.warn({ err: String(e) }, 'affine block refresh failed'));
      }
      void ctx.annotator.record(
        req.pod,
        addresses.map((a) => a.address),
      );
      const ms = {
        ipam: round(tIpam - t0),
        veth: round(tVeth - tIpam),
        finish: round(performance.now() - tVeth),
      };
      ctx.log.info(
        { containerId, ifname, hostVeth, addresses: addresses.map((a) => a.address), ms },
        'pod wired',
      );
      return {
        interfaces: [
          { name: hostVeth, mac: HOST_VETH_MAC, mtu },
          { name: ifname, mac: podMac, mtu, sandbox: netns },
        ],
        ips: addresses.map((a) => ({ address: `${a.address}/${a.family === 4 ? 32 : 128}`, interface: 1 })),
        routes: [
          ...(addresses.some((a) => a.family === 4) ? [{ dst: '0.0.0.0/0', gw: POD_GATEWAY_V4 }] : []),
          ...(ipv6 ? [{ dst: '::/0', gw: POD_GATEWAY_V6 }] : []),
        ],
        dns: {},
      };
    }),
  );
}

/** Creates the pair; `onLeftBehind` is called when it failed after the pair existed. */
async function createVeth(
  hostVeth: string,
  netns: string,
  ifname: string,
  mtu: number,
  podMac: string,
  alias: string,
  up: boolean,
  onLeftBehind: () => void,
): Promise<void> {
  try {
    await createPodVeth({
      host: hostVeth,
      hostMac: HOST_VETH_MAC,
      podNetns: netns,
      podIfname: ifname,
      podMac,
      mtu,
      alias,
      up,
    });
  } catch (e) {
    const link = await hostLink(hostVeth);
    if (isKernelErrno(e, 'EEXIST')) {
      if (!link)
        throw new AgentError(CNI_ERROR.interfaceExists, `CNI_IFNAME ${ifname}: already exists in ${netns}`);
      const owner = parseAlias(link.ifalias);
      throw new AgentError(
        CNI_ERROR.dataplane,
        `host interface ${hostVeth} already exists${owner ? ` for container ${owner.containerId}` : " and is not tabby's"}`,
      );
    }
    if (link) onLeftBehind(); // the pair exists half-configured (alias or up failed)
    throw e;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Host-side veth: answer ARP for the gateway, forward, no delay, strict reverse-path filter. */
function hostSysctls(dev: string, ipv6: boolean): Record<string, number> {
  const v: Record<string, number> = {
    [`net/ipv4/conf/${dev}/proxy_arp`]: 1,
    [`net/ipv4/conf/${dev}/forwarding`]: 1,
    [`net/ipv4/conf/${dev}/rp_filter`]: 1,
    [`net/ipv4/neigh/${dev}/proxy_delay`]: 0,
  };
  if (ipv6) {
    v[`net/ipv6/conf/${dev}/accept_dad`] = 0;
    v[`net/ipv6/conf/${dev}/forwarding`] = 1;
    v[`net/ipv6/conf/${dev}/accept_ra`] = 0;
  }
  return v;
}

/** Undoes a failed ADD: the veth (its pod end goes with it), the routes, the addresses. */
async function rollback(ctx: VerbContext, w: Workload, vethCreated: boolean): Promise<void> {
  const results = await Promise.allSettled([
    vethCreated ? deleteLink(w.hostVeth) : undefined,
    ctx.ipam.releaseByHandle(w.handle, ctx.node),
  ]);
  if (ctx.workloads.get(w.containerId, w.ifname) === w) unrouteWorkload(ctx, w);
  void ctx.routes.flush().catch(() => {});
  for (const r of results) {
    if (r.status === 'rejected')
      ctx.log.error({ handle: w.handle, err: String(r.reason) }, 'ADD rollback step failed');
  }
}
