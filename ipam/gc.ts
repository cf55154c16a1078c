// Leak GC: frees addresses whose pod is gone. An allocation becomes a candidate when its handle
// is not live; it is freed only after it stayed a candidate for the grace period (or at once
// when its node is gone), and only after a fresh re-check says the pod is still gone. The
// release names the exact allocation (handle + sequence), so an address reused meanwhile is
// never freed. Empty blocks are given back when they stayed empty for the grace period and are
// not their node's last block (or their node is gone).
import type { Datastore } from '../datastore/datastore.js';
import type { AllocationAttributes, IPAMBlock } from '../datastore/resources.js';
import { allocatedCount, holdings } from './block.js';
import { releaseEmptyBlock } from './block-release.js';
import { updateHandles } from './handles.js';
import type { Ipam } from './ipam.js';
import { type IpamSnapshot, readSnapshot } from './snapshot.js';

export interface Liveness {
  /** Handles whose pods exist now. */
  liveHandles(): Promise<ReadonlySet<string>>;
  /** A fresh check of one handle, made just before its addresses are freed. */
  isLive(handle: string, attributes: AllocationAttributes): Promise<boolean>;
  /** Nodes that exist; allocations and blocks of other nodes are leaked at once. */
  liveNodes?(): Promise<ReadonlySet<string>>;
}

export interface GcOptions {
  /** How long an allocation must look leaked before it is freed (default 15 min; 0 = at once). */
  graceMs?: number;
  now?: () => number;
}

export interface GcReport {
  /** Allocations that look leaked (waiting out the grace period or freed now). */
  candidates: number;
  reclaimed: { address: string; handle: string; node?: string }[];
  /** Handles that looked leaked but were live on the re-check. */
  spared: string[];
  blocksReleased: string[];
  /** Index entries removed because no block holds anything for them. */
  staleHandles: string[];
}

export const DEFAULT_LEAK_GRACE_MS = 15 * 60_000;

export class LeakCollector {
  /** First time each allocation (block/ordinal/sequence) was seen leaked. */
  private readonly suspects = new Map<string, number>();
  private readonly emptySince = new Map<string, number>();
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ipam: Ipam,
    private readonly liveness: Liveness,
    options: GcOptions = {},
  ) {
    this.graceMs = options.graceMs ?? DEFAULT_LEAK_GRACE_MS;
    this.now = options.now ?? Date.now;
  }

  private get ds(): Datastore {
    return this.ipam.ds;
  }

  async run(): Promise<GcReport> {
    const report: GcReport = {
      candidates: 0,
      reclaimed: [],
      spared: [],
      blocksReleased: [],
      staleHandles: [],
    };
    const snapshot = await readSnapshot(this.ds);
    const [live, nodes] = await Promise.all([this.liveness.liveHandles(), this.liveness.liveNodes?.()]);
    const nodeGone = (n: string | undefined) => nodes !== undefined && n !== undefined && !nodes.has(n);
    const now = this.now();

    // Allocations whose handle is not live, grouped by handle.
    const due = new Map<string, { address: string; attributes: AllocationAttributes }[]>();
    const seen = new Set<string>();
    for (const b of snapshot.blocks) {
      for (const h of holdings(b.spec)) {
        if (live.has(h.attributes.handle)) continue;
        const key = `${b.spec.cidr}/${h.ordinal}/${h.attributes.sequence}`;
        seen.add(key);
        report.candidates++;
        const since = this.suspects.get(key) ?? now;
        this.suspects.set(key, since);
        if (now - since >= this.graceMs || nodeGone(h.attributes.node)) {
          due.set(h.attributes.handle, [
            ...(due.get(h.attributes.handle) ?? []),
            { address: h.address, attributes: h.attributes },
          ]);
        }
      }
    }
    for (const key of this.suspects.keys()) if (!seen.has(key)) this.suspects.delete(key);

    for (const [handle, allocations] of due) {
      const first = allocations[0] as (typeof allocations)[number];
      if (await this.liveness.isLive(handle, first.attributes)) {
        report.spared.push(handle);
        continue;
      }
      for (const a of allocations) {
        const freed = await this.ipam.releaseIP(a.address, { handle, sequence: a.attributes.sequence });
        if (freed) report.reclaimed.push({ address: a.address, handle, node: a.attributes.node });
      }
    }

    report.staleHandles = await this.dropStaleIndexEntries(snapshot, live);
    const blocks = report.reclaimed.length > 0 ? (await this.ds.ipamBlocks.list()).items : snapshot.blocks;
    report.blocksReleased = await this.releaseEmptyBlocks(blocks, nodeGone, now);
    return report;
  }

  /** Index entries of dead handles that no block holds anything for (a crash mid-release). */
  private async dropStaleIndexEntries(snapshot: IpamSnapshot, live: ReadonlySet<string>): Promise<string[]> {
    const held = new Set(snapshot.blocks.flatMap((b) => holdings(b.spec).map((h) => h.attributes.handle)));
    const dropped: string[] = [];
    for (const index of snapshot.handles) {
      const stale = Object.keys(index.spec.handles).filter((h) => !live.has(h) && !held.has(h));
      if (stale.length === 0) continue;
      await updateHandles(this.ds, index.spec.node, { remove: stale });
      dropped.push(...stale);
    }
    return dropped;
  }

  private async releaseEmptyBlocks(
    blocks: IPAMBlock[],
    nodeGone: (n: string | undefined) => boolean,
    now: number,
  ): Promise<string[]> {
    const perNode = new Map<string, number>();
    for (const b of blocks) {
      if (b.spec.affinity) perNode.set(b.spec.affinity, (perNode.get(b.spec.affinity) ?? 0) + 1);
    }
    const released: string[] = [];
    const empty = new Set<string>();
    for (const b of blocks) {
      if (allocatedCount(b.spec) > 0) continue;
      empty.add(b.metadata.name);
      const since = this.emptySince.get(b.metadata.name) ?? now;
      this.emptySince.set(b.metadata.name, since);
      const owner = b.spec.affinity;
      const orphan = owner === undefined || nodeGone(owner);
      const spare = orphan || (perNode.get(owner) ?? 0) > 1;
      if (!spare || (!orphan && now - since < this.graceMs)) continue;
      if (await releaseEmptyBlock(this.ds, b)) {
        released.push(b.spec.cidr);
        if (owner) perNode.set(owner, (perNode.get(owner) ?? 1) - 1);
        this.emptySince.delete(b.metadata.name);
      }
    }
    for (const name of this.emptySince.keys()) if (!empty.has(name)) this.emptySince.delete(name);
    return released;
  }
}
