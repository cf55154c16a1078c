// Leak GC: frees addresses whose pod is gone. An allocation becomes a suspect when its handle
// is not live; it is freed only after it stayed a suspect for the grace period (or at once
// when its node is gone), and only after a fresh re-check says the pod is still gone. The
// release names the exact allocation (block, ordinal, handle, sequence), so an address reused
// meanwhile is never freed. The same grace and re-check guard the other clean-ups: handle-index
// entries nothing backs, half-done block claims, and empty blocks (never a node's last block of
// a family, unless the node is gone). One failing item is reported, not fatal to the run.
import { parseCidr } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import { cidrResourceName } from '../datastore/names.js';
import type { AllocationAttributes, IPAMBlock } from '../datastore/resources.js';
import { allocatedCount, holdings } from './block.js';
import { releaseEmptyBlock } from './block-release.js';
import { updateHandles } from './handles.js';
import type { Ipam } from './ipam.js';
import { type IpamSnapshot, readSnapshot, snapshotWithin } from './snapshot.js';

export interface Liveness {
  /** Handles whose pods exist now. */
  liveHandles(): Promise<ReadonlySet<string>>;
  /** A fresh check of one handle, made just before anything of it is freed. */
  isLive(handle: string, attributes?: AllocationAttributes): Promise<boolean>;
  /**
   * Nodes that exist; allocations and blocks of other nodes are leaked at once. Undefined (or no
   * liveNodes) when that is not known: then no node counts as gone.
   */
  liveNodes?(): Promise<ReadonlySet<string> | undefined>;
}

export interface GcOptions {
  /** How long something must look leaked before it is freed (default 15 min; 0 = at once). */
  graceMs?: number;
  /** Only blocks (and their allocations, affinities, index entries) inside these pool CIDRs. */
  pools?: string[];
  now?: () => number;
}

export interface GcReport {
  /** Allocations that look leaked (waiting out the grace period, or freed now). */
  candidates: number;
  reclaimed: { address: string; handle: string; node?: string }[];
  /** Handles that looked leaked but were live on the re-check. */
  spared: string[];
  blocksReleased: string[];
  /** Index entries removed because no block holds anything for them. */
  staleHandles: string[];
  /** Half-done claims (pending affinities without a block) removed. */
  staleClaims: string[];
  /** Items that failed this run (retried on the next). */
  errors: string[];
}

export const DEFAULT_LEAK_GRACE_MS = 15 * 60_000;

interface Suspect {
  block: string;
  ordinal: number;
  address: string;
  attributes: AllocationAttributes;
}

export class LeakCollector {
  /** When each suspect was first seen, by key. */
  private readonly firstSeen = new Map<string, number>();
  private readonly graceMs: number;
  private readonly pools: string[] | undefined;
  private readonly now: () => number;

  constructor(
    private readonly ipam: Ipam,
    private readonly liveness: Liveness,
    options: GcOptions = {},
  ) {
    this.graceMs = options.graceMs ?? DEFAULT_LEAK_GRACE_MS;
    this.pools = options.pools;
    this.now = options.now ?? Date.now;
  }

  private scoped(s: IpamSnapshot): IpamSnapshot {
    return this.pools ? snapshotWithin(s, this.pools) : s;
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
      staleClaims: [],
      errors: [],
    };
    const snapshot = this.scoped(await readSnapshot(this.ds));
    const [live, nodes] = await Promise.all([this.liveness.liveHandles(), this.liveness.liveNodes?.()]);
    const nodeGone = (n: string | undefined) => nodes !== undefined && n !== undefined && !nodes.has(n);
    const seen = new Set<string>();
    const ripe = (key: string, now: boolean) => {
      seen.add(key);
      const since = this.firstSeen.get(key) ?? this.now();
      this.firstSeen.set(key, since);
      return now || this.now() - since >= this.graceMs;
    };
    const attempt = async (what: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (e) {
        report.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };

    // 1. Allocations of dead handles.
    const due = new Map<string, Suspect[]>();
    for (const b of snapshot.blocks) {
      for (const h of holdings(b.spec)) {
        if (live.has(h.attributes.handle)) continue;
        report.candidates++;
        const key = `a/${b.metadata.name}/${h.ordinal}/${h.attributes.sequence}`;
        if (!ripe(key, nodeGone(h.attributes.node))) continue;
        const list = due.get(h.attributes.handle) ?? [];
        list.push({
          block: b.metadata.name,
          ordinal: h.ordinal,
          address: h.address,
          attributes: h.attributes,
        });
        due.set(h.attributes.handle, list);
      }
    }
    for (const [handle, suspects] of due) {
      await attempt(`handle ${handle}`, async () => {
        if (await this.liveness.isLive(handle, suspects[0]?.attributes)) {
          report.spared.push(handle);
          return;
        }
        for (const s of suspects) {
          const expect = { handle, sequence: s.attributes.sequence };
          if (await this.ipam.releaseAllocation(s.block, s.ordinal, expect)) {
            report.reclaimed.push({ address: s.address, handle, node: s.attributes.node });
          }
        }
      });
    }

    // 2. Index entries with nothing behind them, 3. half-done claims, 4. empty blocks.
    await this.dropStaleIndexEntries(snapshot, live, ripe, attempt, report);
    await this.dropStaleClaims(snapshot, nodeGone, ripe, attempt, report);
    const blocks =
      report.reclaimed.length > 0
        ? this.scoped({ ...snapshot, blocks: (await this.ds.ipamBlocks.list()).items }).blocks
        : snapshot.blocks;
    await this.releaseEmptyBlocks(blocks, nodeGone, ripe, attempt, report);

    for (const key of this.firstSeen.keys()) if (!seen.has(key)) this.firstSeen.delete(key);
    return report;
  }

  private async dropStaleIndexEntries(
    snapshot: IpamSnapshot,
    live: ReadonlySet<string>,
    ripe: (key: string, now: boolean) => boolean,
    attempt: (what: string, work: () => Promise<void>) => Promise<void>,
    report: GcReport,
  ): Promise<void> {
    const held = new Set(snapshot.blocks.flatMap((b) => holdings(b.spec).map((h) => h.attributes.handle)));
    for (const index of snapshot.handles) {
      const node = index.spec.node;
      const suspects = Object.keys(index.spec.handles).filter(
        (h) => !live.has(h) && !held.has(h) && ripe(`h/${node}/${h}`, false),
      );
      if (suspects.length === 0) continue;
      await attempt(`handle index ${node}`, async () => {
        const stale: string[] = [];
        for (const handle of suspects) {
          if (await this.liveness.isLive(handle)) continue;
          // Re-read the blocks the entry names: an allocation may have landed after the snapshot.
          const blocks = Object.keys(index.spec.handles[handle]?.blocks ?? {});
          const fresh = await Promise.all(blocks.map((c) => this.ds.ipamBlocks.get(cidrResourceName(c))));
          if (fresh.some((b) => b && holdings(b.spec).some((h) => h.attributes.handle === handle))) continue;
          stale.push(handle);
        }
        if (stale.length === 0) return;
        await updateHandles(this.ds, node, { remove: stale });
        report.staleHandles.push(...stale);
      });
    }
  }

  private async dropStaleClaims(
    snapshot: IpamSnapshot,
    nodeGone: (n: string | undefined) => boolean,
    ripe: (key: string, now: boolean) => boolean,
    attempt: (what: string, work: () => Promise<void>) => Promise<void>,
    report: GcReport,
  ): Promise<void> {
    const blocks = new Set(snapshot.blocks.map((b) => b.metadata.name));
    for (const a of snapshot.affinities) {
      if (a.spec.state !== 'pending' || blocks.has(a.metadata.name)) continue;
      if (!ripe(`c/${a.metadata.name}/${a.metadata.uid}`, nodeGone(a.spec.node))) continue;
      await attempt(`BlockAffinity ${a.metadata.name}`, async () => {
        if (await this.ds.ipamBlocks.get(a.metadata.name)) return; // the claim went on meanwhile
        try {
          await this.ds.blockAffinities.delete(a.metadata.name, {
            resourceVersion: a.metadata.resourceVersion as string,
          });
          report.staleClaims.push(a.spec.cidr);
        } catch (e) {
          if (!isDatastoreError(e, 'NotFound') && !isDatastoreError(e, 'Conflict')) throw e;
        }
      });
    }
  }

  private async releaseEmptyBlocks(
    blocks: IPAMBlock[],
    nodeGone: (n: string | undefined) => boolean,
    ripe: (key: string, now: boolean) => boolean,
    attempt: (what: string, work: () => Promise<void>) => Promise<void>,
    report: GcReport,
  ): Promise<void> {
    const familyOf = (b: IPAMBlock) => parseCidr(b.spec.cidr).family;
    const owned = new Map<string, number>(); // node/family → blocks
    const key = (node: string, b: IPAMBlock) => `${node}/${familyOf(b)}`;
    for (const b of blocks) {
      if (b.spec.affinity) owned.set(key(b.spec.affinity, b), (owned.get(key(b.spec.affinity, b)) ?? 0) + 1);
    }
    for (const b of blocks) {
      if (allocatedCount(b.spec) > 0) continue;
      const owner = b.spec.affinity;
      const orphan = owner === undefined || nodeGone(owner);
      const spare = orphan || (owned.get(key(owner, b)) ?? 0) > 1;
      if (!ripe(`b/${b.metadata.name}`, orphan) || !spare) continue;
      await attempt(`block ${b.spec.cidr}`, async () => {
        if (!(await releaseEmptyBlock(this.ds, b))) return;
        report.blocksReleased.push(b.spec.cidr);
        if (owner) owned.set(key(owner, b), (owned.get(key(owner, b)) ?? 1) - 1);
      });
    }
  }
}
