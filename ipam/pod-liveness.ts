// Leak GC's idea of "alive", read from Kubernetes: an allocation made for a pod (it carries the
// pod's namespace and name) is alive while that pod exists on the node that asked for it and —
// when the agent recorded the pod's addresses on it (tabby.dev/pod-ips) — lists that address.
// A pod re-created elsewhere, or a sandbox replaced by a newer one, so leaves the old address
// leaked. Allocations without a pod identity (not made by the CNI path) are never called dead.
import type { Datastore } from '../datastore/datastore.js';
import { type AllocationAttributes, POD_IPS_ANNOTATION, type PodInfo } from '../datastore/resources.js';
import { holdings } from './block.js';
import type { Liveness } from './gc.js';
import type { Ipam } from './ipam.js';

/** Pure: is the allocation of `address` with `attrs` alive, given the pod of that name (if any)? */
export function allocationAlive(
  attrs: AllocationAttributes,
  address: string,
  pod: PodInfo | undefined,
): boolean {
  if (!attrs.namespace || !attrs.pod) return true;
  if (!pod) return false;
  if (attrs.node && pod.node && pod.node !== attrs.node) return false;
  const recorded = pod.annotations[POD_IPS_ANNOTATION];
  if (recorded === undefined) return true; // not recorded yet: the pod's word is all we have
  return recorded.split(',').includes(address);
}

export function podLiveness(ds: Datastore, ipam: Ipam): Liveness {
  return {
    liveHandles: async () => {
      const [pods, blocks] = await Promise.all([ds.listPods(), ds.ipamBlocks.list()]);
      const byName = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      const live = new Set<string>();
      for (const b of blocks.items) {
        for (const h of holdings(b.spec)) {
          const pod = byName.get(`${h.attributes.namespace}/${h.attributes.pod}`);
          if (allocationAlive(h.attributes, h.address, pod)) live.add(h.attributes.handle);
        }
      }
      return live;
    },
    isLive: async (handle, attrs) => {
      if (!attrs?.namespace || !attrs.pod) return true;
      const pod = await ds.getPod(attrs.namespace, attrs.pod);
      if (!pod) return false;
      const addresses = attrs.node ? await ipam.addressesOf(handle, attrs.node) : [];
      if (addresses.length === 0) return allocationAlive(attrs, '', { ...pod, annotations: {} });
      return addresses.some((a) => allocationAlive(attrs, a.address, pod));
    },
    liveNodes: async () => {
      const nodes = await ds.listNodes();
      // No Node at all is not a cluster without nodes but a view we cannot trust (RBAC, a lab
      // without Node objects): then no allocation is called dead for its node's sake.
      return nodes.length > 0 ? new Set(nodes) : undefined;
    },
  };
}
