// The pods this agent has wired, by attachment (container id + ifname), by host veth and by
// address. Rebuilt from the kernel (veth aliases) at start, kept current by ADD, DEL and GC.

import type { PodIdentity } from '../cni/protocol.js';
import type { IpFamily } from '../common/addr.js';

export interface Workload {
  network: string;
  containerId: string;
  ifname: string;
  hostVeth: string;
  handle: string;
  addresses: { family: IpFamily; address: string }[];
  pod?: PodIdentity;
}

const key = (containerId: string, ifname: string) => `${containerId}/${ifname}`;

export class WorkloadTable {
  private readonly byAttachment = new Map<string, Workload>();
  private readonly byHostVeth = new Map<string, Workload>();
  /** Address → the workloads that claim it (normally one; more only after state went wrong). */
  private readonly byAddress = new Map<string, Set<Workload>>();

  get(containerId: string, ifname: string): Workload | undefined {
    return this.byAttachment.get(key(containerId, ifname));
  }

  byVeth(hostVeth: string): Workload | undefined {
    return this.byHostVeth.get(hostVeth);
  }

  /** A workload holding `address`, other than `except`. */
  holderOf(address: string, except?: Workload): Workload | undefined {
    for (const w of this.byAddress.get(address) ?? []) if (w !== except) return w;
    return undefined;
  }

  set(w: Workload): void {
    this.delete(w);
    this.byAttachment.set(key(w.containerId, w.ifname), w);
    this.byHostVeth.set(w.hostVeth, w);
    for (const a of w.addresses) {
      const holders = this.byAddress.get(a.address) ?? new Set();
      holders.add(w);
      this.byAddress.set(a.address, holders);
    }
  }

  delete(w: Pick<Workload, 'containerId' | 'ifname'>): void {
    const old = this.byAttachment.get(key(w.containerId, w.ifname));
    if (!old) return;
    this.byAttachment.delete(key(w.containerId, w.ifname));
    if (this.byHostVeth.get(old.hostVeth) === old) this.byHostVeth.delete(old.hostVeth);
    for (const a of old.addresses) {
      const holders = this.byAddress.get(a.address);
      holders?.delete(old);
      if (holders?.size === 0) this.byAddress.delete(a.address);
    }
  }

  all(): Workload[] {
    return [...this.byAttachment.values()];
  }

  get size(): number {
    return this.byAttachment.size;
  }
}

export const attachmentKey = key;
