// ADD: addresses from IPAM, then the veth pair with the pod end born in the pod's namespace,
// the host end aliased, up, proxy-ARPing and forwarding, the pod's /32 + on-link gateway +
// default route, and the host's `/32 dev <veth>` route through the route table. Any failure
// undoes everything this ADD did (veth, route, addresses) before answering.
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
  writeSysctls,
} from '../../kernel/index.js';
import { AgentError } from '../errors.js';
import { aliasFor, handleFor, randomPodMac, vethName } from '../naming.js';
import { localRoutes } from '../pod-routes.js';
import { attachmentKey, type Workload } from '../workloads.js';
import type { VerbContext } from './context.js';
import { attachmentOf } from './request.js';
import { forgetWorkload } from './teardown.js';

export async function add(ctx: VerbContext, req: AgentRequest): Promise<CniResult> {
  const { containerId, ifname, network } = attachmentOf(req);
  const netns = req.netns;
  if (!netns?.startsWith('/')) {
    throw new AgentError(
      CNI_ERROR.invalidEnv,
      `CNI_NETNS: an absolute path is required for ADD, got ${JSON.stringify(netns)}`,
    );
  }
  return ctx.locks.run(attachmentKey(containerId, ifname), async () => {
    if (!existsSync(netns))
      throw new AgentError(CNI_ERROR.dataplane, `CNI_NETNS ${netns}: no such network namespace`);
    const existing = ctx.workloads.get(containerId, ifname);
    if (existing) {
      throw new AgentError(
        CNI_ERROR.interfaceExists,
        `CNI_IFNAME ${ifname}: container ${containerId} already has it (host side ${existing.hostVeth}); DEL it first`,
      );
    }
    const hostVeth = vethName(ctx.interfacePrefix, containerId, ifname, req.pod);
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
    const { ipam } = req.conf;
    const assigned = await ctx.ipam.assign(handle, ctx.node, {
      v4: ipam.assignIpv4 ? 1 : 0,
      v6: ipam.assignIpv6 ? 1 : 0,
      pool: ipam.pools.length > 0 ? ipam.pools : undefined,
      attrs: { namespace: req.pod?.namespace, pod: req.pod?.name },
    });
    const tIpam = performance.now();
    const addresses = assigned.addresses.map((a) => ({ family: a.family, address: a.address }));
    const workload: Workload = { network, containerId, ifname, hostVeth, handle, addresses, pod: req.pod };
    const mtu = req.conf.mtu || ctx.mtu;
    const podMac = randomPodMac();
    let vethCreated = false;
    let tVeth = 0;
    try {
      try {
        await createPodVeth({
          host: hostVeth,
          hostMac: HOST_VETH_MAC,
          podNetns: netns,
          podIfname: ifname,
          podMac,
          mtu,
          alias: aliasFor({ network, containerId, ifname, addresses: addresses.map((a) => a.address) }),
        });
        vethCreated = true;
        tVeth = performance.now();
      } catch (e) {
        if (isKernelErrno(e, 'EEXIST')) {
          vethCreated = false;
          throw (await hostLink(hostVeth))
            ? new AgentError(
                CNI_ERROR.dataplane,
                `host interface ${hostVeth} exists but is not tabby's pod ${containerId}`,
              )
            : new AgentError(CNI_ERROR.interfaceExists, `CNI_IFNAME ${ifname}: already exists in ${netns}`);
        }
        // The pair may exist half-configured (alias or up failed): remove it.
        vethCreated = true;
        throw e;
      }
      ctx.workloads.set(workload);
      for (const r of localRoutes([workload])) ctx.routes.upsert('local', r);
      const newBlock = assigned.addresses.some((a) => !ctx.blocks.has(a.block));
      await Promise.all([
        writeSysctls(
          hostSysctls(
            hostVeth,
            addresses.some((a) => a.family === 6),
          ),
        ),
        configurePodInterface(netns, ifname, addresses, { 4: POD_GATEWAY_V4, 6: POD_GATEWAY_V6 }),
        ctx.routes.flush(),
        newBlock ? ctx.blocks.refresh() : undefined,
      ]);
    } catch (e) {
      await rollback(ctx, workload, vethCreated);
      throw e;
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
        ...(addresses.some((a) => a.family === 6) ? [{ dst: '::/0', gw: POD_GATEWAY_V6 }] : []),
      ],
      dns: {},
    };
  });
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
    v[`net/ipv6/conf/${dev}/proxy_ndp`] = 1;
    v[`net/ipv6/conf/${dev}/forwarding`] = 1;
    v[`net/ipv6/conf/${dev}/accept_ra`] = 0;
  }
  return v;
}

/** Undoes a failed ADD: the routes, the veth (its pod end goes with it), the addresses. */
async function rollback(ctx: VerbContext, w: Workload, vethCreated: boolean): Promise<void> {
  ctx.workloads.delete(w);
  for (const r of localRoutes([w])) ctx.routes.remove('local', r.family, r.dst);
  const steps: Promise<unknown>[] = [ctx.routes.flush()];
  if (vethCreated) steps.push(deleteLink(w.hostVeth));
  steps.push(ctx.ipam.releaseByHandle(w.handle, ctx.node));
  const results = await Promise.allSettled(steps);
  for (const r of results) {
    if (r.status === 'rejected')
      ctx.log.error({ handle: w.handle, err: String(r.reason) }, 'ADD rollback step failed');
  }
}
