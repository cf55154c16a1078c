// The IPAM: assign and release addresses by handle for a node. Requests for one node go through
// one group-commit queue, so a burst becomes a few batches; every write is a compare-and-swap,
// so several agents (and the GC) can work on the same datastore safely.
import { parseIp } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { cidrResourceName } from '../datastore/names.js';
import type { AllocationAttributes } from '../datastore/resources.js';
import { runAssignBatch } from './assign-batch.js';
import { type AssignRequest, assignRequest } from './assign-request.js';
import { type Holding, ordinalOf } from './block.js';
import { BlockCache } from './block-cache.js';
import { IpamError } from './errors.js';
import { GroupCommit, type Pending } from './group-commit.js';
import { findHandle, updateHandles } from './handles.js';
import { blockCidrFor, poolContaining, usablePools } from './pools.js';
import { runReleaseBatch } from './release-batch.js';
import { releaseInBlock } from './release-blocks.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { AssignOptions, AssignResult, ReleaseResult } from './types.js';

export interface IpamOptions {
  /** Clock (ms since the epoch); tests move it to exercise cooldowns. */
  now?: () => number;
  retry?: RetryPolicy;
  /** Most requests one batch takes (default 256). */
  maxBatch?: number;
}

type Op = { kind: 'assign'; request: AssignRequest } | { kind: 'release'; handle: string };

export class Ipam {
  private readonly cache: BlockCache;
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
    const owner = node ?? (await findHandle(this.ds, handle))?.node;
    if (!owner) return { handle, released: [] };
    return (await this.queue.submit(owner, { kind: 'release', handle })) as ReleaseResult;
  }

  /**
   * Frees one address. With `expect`, only when it is still held by that handle (and, with a
   * sequence, by that very allocation): what the GC uses so it never frees a reused address.
   * Returns what was freed, or undefined when the address was free or held by someone else.
   */
  async releaseIP(
    address: string,
    expect: { handle?: string; sequence?: number } = {},
  ): Promise<{ address: string; attributes: AllocationAttributes } | undefined> {
    let ip: string;
    try {
      ip = parseIp(address).address;
    } catch (e) {
      throw new IpamError('InvalidArgument', `address: ${(e as Error).message}`);
    }
    const pools = usablePools((await this.ds.ipPools.list()).items);
    const pool = poolContaining(pools, ip);
    if (!pool) throw new IpamError('AddressNotInPool', `${ip} is in no IPPool`);
    const name = cidrResourceName(blockCidrFor(pool, ip));
    const matches = (h: Holding, ordinal: number) =>
      h.ordinal === ordinal &&
      (expect.handle === undefined || h.attributes.handle === expect.handle) &&
      (expect.sequence === undefined || h.attributes.sequence === expect.sequence);
    let freed: Holding[] = [];
    const block = await this.cache.get(name);
    if (block) {
      const ordinal = ordinalOf(block.spec, ip);
      freed = await releaseInBlock(this.deps, name, (h) => matches(h, ordinal));
    }
    const h = freed[0];
    if (!h) return undefined;
    if (h.attributes.node) {
      await updateHandles(
        this.ds,
        h.attributes.node,
        { subtract: [{ handle: h.attributes.handle, block: block?.spec.cidr as string, count: 1 }] },
        this.deps.retry,
      );
    }
    return { address: h.address, attributes: h.attributes };
  }

  private async runBatch(node: string, batch: Pending<Op, AssignResult | ReleaseResult>[]): Promise<void> {
    const releases: Pending<string, ReleaseResult>[] = [];
    const assigns: Pending<AssignRequest, AssignResult>[] = [];
    for (const p of batch) {
      if (p.item.kind === 'release') releases.push({ ...p, item: p.item.handle });
      else assigns.push({ ...p, item: p.item.request });
    }
    if (releases.length > 0) await runReleaseBatch(this.deps, node, releases);
    if (assigns.length > 0) await runAssignBatch(this.deps, node, assigns);
  }
}
