// The IPAM: assign and release addresses by handle for a node. Requests for one node go through
// one group-commit queue, so a burst becomes a few batches; every write is a compare-and-swap,
// so several agents (and the GC) can work on the same datastore safely.
import { type Cidr, cidrContains, offsetIn, parseCidr, parseIp } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { cidrResourceName } from '../datastore/names.js';
import type { AllocationAttributes } from '../datastore/resources.js';
import { runAssignBatch } from './assign-batch.js';
import { type AssignRequest, assignRequest } from './assign-request.js';
import { holdings } from './block.js';
import { BlockCache } from './block-cache.js';
import { IpamError } from './errors.js';
import { GroupCommit, type Pending } from './group-commit.js';
import { findHandleNode, updateHandles } from './handles.js';
import { blockCidrFor, poolContaining, usablePools } from './pools.js';
import { runReleaseBatch } from './release-batch.js';
import { releaseInBlock } from './release-blocks.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { AssignedAddress, AssignOptions, AssignResult, ReleaseResult } from './types.js';

export interface IpamOptions {
  /** Clock (ms since the epoch); tests move it to exercise cooldowns. */
  now?: () => number;
  retry?: RetryPolicy;
  /** Most requests one batch takes (default 256). */
  maxBatch?: number;
}

export interface ReleaseExpectation {
  handle?: string;
  sequence?: number;
}

export interface ReleasedAddress {
  address: string;
  attributes: AllocationAttributes;
}

type Op = { kind: 'assign'; request: AssignRequest } | { kind: 'release'; handle: string };

/** How long, and for how many handles, this instance remembers its own releases. */
const RECENT_RELEASE_MS = 10 * 60_000;
const RECENT_RELEASE_MAX = 4096;

export class Ipam {
  private readonly cache: BlockCache;
  /** node/handle → when this instance released it (oldest first); an assign forgets it. */
  private readonly released = new Map<string, number>();
  /** node/handle → the epoch of its latest assign (bounded like `released`). */
  private readonly assignEpochs = new Map<string, number>();
  private epoch = 0;
  private readonly queue: GroupCommit<Op, AssignResult | ReleaseResult>;
  private readonly deps;

  constructor(
    readonly ds: Datastore,
    options: IpamOptions = {},
  ) {
    this.cache = new BlockCache(ds);
    this.deps = {
      ds,
      cache: this.cache,
      now: options.now ?? Date.now,
      retry: options.retry ?? DEFAULT_RETRY,
    };
    this.queue = new GroupCommit((node, batch) => this.runBatch(node, batch), options.maxBatch);
  }

  /**
   * Addresses for `handle` on `node`. A handle that already holds addresses gets those back
   * (`existing: true`), so a retried request never allocates twice.
   */
  async assign(handle: string, node: string, options: AssignOptions): Promise<AssignResult> {
    const request = assignRequest(handle, node, options);
    const key = `${node}/${handle}`;
    this.released.delete(key);
    this.assignEpochs.delete(key);
    this.assignEpochs.set(key, ++this.epoch);
    if (this.assignEpochs.size > RECENT_RELEASE_MAX) {
      this.assignEpochs.delete(this.assignEpochs.keys().next().value as string);
    }
    return (await this.queue.submit(node, { kind: 'assign', request })) as AssignResult;
  }

  /**
   * Frees every address of `handle`. Pass the node that allocated them (the CNI plugin's node);
   * without it every node's handle index is searched. Unknown handles succeed with nothing freed.
   */
  async releaseByHandle(handle: string, node?: string): Promise<ReleaseResult> {
    if (typeof handle !== 'string' || handle.length === 0) {
      throw new IpamError('InvalidArgument', 'handle: must be a non-empty string');
    }
    const owner = node ?? (await findHandleNode(this.ds, handle));
    if (!owner) return { handle, released: [] };
    // A repeated release (a runtime's second DEL of every pod) would otherwise find the handle
    // gone from the index and search the node's blocks, in case a crash left it half-written.
    const key = `${owner}/${handle}`;
    const at = this.released.get(key);
    if (at !== undefined && this.deps.now() - at < RECENT_RELEASE_MS) return { handle, released: [] };
    const epochBefore = this.epoch;
    const assignedBefore = this.assignEpochs.get(key);
    const result = (await this.queue.submit(owner, { kind: 'release', handle })) as ReleaseResult;
    // Remembered only if no assign of this handle was submitted meanwhile (it may hold addresses
    // again), which the epochs show unless thousands of assigns passed: then nothing is.
    const quiet =
      this.assignEpochs.get(key) === assignedBefore && this.epoch - epochBefore < RECENT_RELEASE_MAX;
    this.released.delete(key);
    if (quiet) this.released.set(key, this.deps.now());
    if (this.released.size > RECENT_RELEASE_MAX) {
      this.released.delete(this.released.keys().next().value as string);
    }
    return result;
  }

  /**
   * The addresses `handle` holds on `node`, read fresh (the handle index, then its blocks):
   * what CHECK compares a pod's addresses with. Empty when the handle holds nothing.
   */
  async addressesOf(handle: string, node: string): Promise<AssignedAddress[]> {
    const entry = (await this.ds.ipamHandles.get(node))?.spec.handles[handle];
    if (!entry) return [];
    const blocks = await Promise.all(
      Object.keys(entry.blocks).map((cidr) => this.ds.ipamBlocks.get(cidrResourceName(cidr))),
    );
    return blocks.flatMap((b) =>
      b
        ? holdings(b.spec)
            .filter((h) => h.attributes.handle === handle)
            .map((h) => ({ family: parseIp(h.address).family, address: h.address, block: b.spec.cidr }))
        : [],
    );
  }

  /**
   * Frees one address. With `expect`, only when it is still held by that handle (and, with a
   * sequence, by that very allocation): what the GC uses so it never frees a reused address.
   * Returns what was freed, or undefined when the address was free or held by someone else.
   */
  async releaseIP(address: string, expect: ReleaseExpectation = {}): Promise<ReleasedAddress | undefined> {
    let ip: string;
    try {
      ip = parseIp(address).address;
    } catch (e) {
      throw new IpamError('InvalidArgument', `address: ${(e as Error).message}`);
    }
    const block = await this.blockHolding(ip);
    if (!block) return undefined;
    return this.releaseAllocation(cidrResourceName(block), Number(offsetIn(block, ip)), expect);
  }

  /** Frees ordinal `ordinal` of block `blockName` if it matches `expect` (see releaseIP). */
  async releaseAllocation(
    blockName: string,
    ordinal: number,
    expect: ReleaseExpectation = {},
  ): Promise<ReleasedAddress | undefined> {
    const { freed, cidr: block } = await releaseInBlock(
      this.deps,
      blockName,
      (h) =>
        h.ordinal === ordinal &&
        (expect.handle === undefined || h.attributes.handle === expect.handle) &&
        (expect.sequence === undefined || h.attributes.sequence === expect.sequence),
    );
    const h = freed[0];
    if (!h || !block) return undefined;
    if (h.attributes.node) {
      await updateHandles(
        this.ds,
        h.attributes.node,
        { subtract: [{ handle: h.attributes.handle, block, count: 1 }] },
        this.deps.retry,
      );
    }
    return { address: h.address, attributes: h.attributes };
  }

  /** The CIDR of the block holding `ip`: from its pool's block size, else (pool deleted) a search. */
  private async blockHolding(ip: string): Promise<Cidr | undefined> {
    const pool = poolContaining(usablePools((await this.ds.ipPools.list()).items), ip);
    if (pool) return blockCidrFor(pool, ip);
    const { items } = await this.ds.ipamBlocks.list();
    return items.map((b) => parseCidr(b.spec.cidr)).find((c) => cidrContains(c, ip));
  }

  /**
   * Runs one node's batch. Releases go before assigns, so the batch is cut wherever a handle
   * comes up a second time: an ADD then DEL (or two ADDs) of one handle keep their order.
   */
  private async runBatch(node: string, batch: Pending<Op, AssignResult | ReleaseResult>[]): Promise<void> {
    for (const segment of segmentByHandle(batch)) {
      const releases: Pending<string, ReleaseResult>[] = [];
      const assigns: Pending<AssignRequest, AssignResult>[] = [];
      for (const p of segment) {
        if (p.item.kind === 'release') releases.push({ ...p, item: p.item.handle });
        else assigns.push({ ...p, item: p.item.request });
      }
      if (releases.length > 0) await runReleaseBatch(this.deps, node, releases);
      if (assigns.length > 0) await runAssignBatch(this.deps, node, assigns);
    }
  }
}

const handleOf = (op: Op) => (op.kind === 'release' ? op.handle : op.request.handle);

/** Consecutive runs of `batch` in which no handle appears twice. */
function segmentByHandle<T extends { item: Op }>(batch: T[]): T[][] {
  const segments: T[][] = [];
  let current: T[] = [];
  let seen = new Set<string>();
  for (const p of batch) {
    const h = handleOf(p.item);
    if (seen.has(h)) {
      segments.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(h);
    current.push(p);
  }
  if (current.length > 0) segments.push(current);
  return segments;
}
