// Planning one attempt of a node's batch: every pending request gets its addresses from private
// copies of blocks — the node's affine blocks first, then newly claimed blocks, then (unless
// strictAffinity) borrowed ones. Nothing is written here except block claims; the batch writes
// each touched block once afterwards.
import { formatCidr, type IpFamily, parseCidr } from '../common/addr.js';
import type { Datastore } from '../datastore/datastore.js';
import { cidrResourceName } from '../datastore/names.js';
import type { IPAMBlock } from '../datastore/resources.js';
import type { AssignRequest } from './assign-request.js';
import {
  allocateNext,
  allocateOrdinal,
  forgetExpiredCooldowns,
  type Holding,
  ordinalOf,
  unallocate,
} from './block.js';
import type { BlockCache } from './block-cache.js';
import { claimBlock } from './claim.js';
import { IpamError } from './errors.js';
import type { NodeEnv } from './node-env.js';
import { blockCidrFor, eligiblePools, type Pool, poolContaining, poolHoldsBlock } from './pools.js';
import type { AssignedAddress } from './types.js';

/** An address written to its block, with what a rollback needs. */
export interface Committed extends AssignedAddress {
  blockName: string;
  ordinal: number;
  sequence: number;
  handle: string;
  specific: boolean;
}

export interface Work {
  req: AssignRequest;
  got: Committed[];
  error?: unknown;
}

export interface Grant {
  work: Work;
  holding: Holding;
  specific: boolean;
}

export interface PlannedBlock {
  obj: IPAMBlock;
  grants: Grant[];
}

export interface PlanContext {
  ds: Datastore;
  cache: BlockCache;
  env: NodeEnv;
  nowMs: number;
}

export const workDone = (w: Work): boolean =>
  w.error !== undefined ||
  (w.got.filter((g) => g.specific).length === w.req.specific.length &&
    ([4, 6] as const).every(
      (f) => w.got.filter((g) => !g.specific && g.family === f).length >= w.req.need[f],
    ));

export class BatchPlan {
  readonly blocks = new Map<string, PlannedBlock>();

  constructor(private readonly ctx: PlanContext) {}

  private async block(name: string): Promise<PlannedBlock | undefined> {
    let pb = this.blocks.get(name);
    if (!pb) {
      const obj = await this.ctx.cache.get(name);
      if (!obj) return undefined;
      forgetExpiredCooldowns(obj.spec, this.ctx.nowMs, this.ctx.env.settings.cooldownMs);
      pb = { obj, grants: [] };
      this.blocks.set(name, pb);
    }
    return pb;
  }

  /** Plans all of `w`'s missing addresses, or none (throwing why). */
  async plan(w: Work): Promise<void> {
    try {
      for (const s of w.req.specific) {
        if (!w.got.some((g) => g.specific && g.address === s.address)) await this.planSpecific(w, s.address);
      }
      for (const family of [4, 6] as const) {
        const have = w.got.filter((g) => !g.specific && g.family === family).length;
        const want = w.req.need[family] - have;
        if (want > 0) await this.planFamily(w, family, want);
      }
    } catch (e) {
      this.undo(w);
      throw e;
    }
  }

  /** Takes back every grant planned for `w`. */
  undo(w: Work): void {
    for (const pb of this.blocks.values()) {
      const mine = pb.grants.filter((g) => g.work === w);
      if (mine.length === 0) continue;
      unallocate(
        pb.obj.spec,
        mine.map((g) => g.holding),
      );
      pb.grants = pb.grants.filter((g) => g.work !== w);
    }
  }

  private async planSpecific(w: Work, address: string): Promise<void> {
    const { env, ds } = this.ctx;
    const pool = poolContaining(env.pools, address);
    if (!pool) throw new IpamError('AddressNotInPool', `${address} is in no IPPool`);
    // An explicitly requested address honours `disabled`, not nodeSelector or maxBlocksPerNode.
    if (pool.disabled) throw new IpamError('NoPool', `${address}: IPPool ${pool.name} is disabled`);
    const cidr = blockCidrFor(pool, address);
    const name = cidrResourceName(cidr);
    let pb = await this.block(name);
    if (!pb) {
      const claimed = await claimBlock(ds, env.node, pool, await env.taken(), cidr);
      if (claimed) {
        this.ctx.cache.put(claimed.block);
        await env.refreshAffinities();
      } else {
        this.ctx.cache.drop(name); // created by someone else meanwhile: read it fresh
      }
      pb = await this.block(name);
      if (!pb)
        throw new IpamError(
          'Contention',
          `block ${formatCidr(cidr)} for ${address} could not be read or claimed`,
        );
    }
    const result = allocateOrdinal(pb.obj.spec, ordinalOf(pb.obj.spec, address), w.req.attrs);
    if ('heldBy' in result) {
      throw new IpamError('AddressInUse', `${address} is already held by handle ${result.heldBy.handle}`);
    }
    pb.grants.push({ work: w, holding: result.taken, specific: true });
  }

  private async planFamily(w: Work, family: IpFamily, want: number): Promise<void> {
    const { env } = this.ctx;
    const pools = eligiblePools(env.pools, family, env.node, env.labels, namedPools(w, env.pools)[family]);

    let left = want - (await this.takeFromAffine(w, pools, want));
    if (left > 0 && env.affinitiesCached) {
      // The affinities came from a cache: a block claimed a moment ago may be missing from them.
      // Look again, consistently, before claiming another.
      await env.refreshAffinities();
      left -= await this.takeFromAffine(w, pools, left);
    }
    while (left > 0) {
      const claimed = await this.claimIn(pools, family);
      if (!claimed) break;
      left -= this.take(w, claimed, left);
    }
    if (left > 0 && !env.settings.strictAffinity) {
      for (const b of await env.borrowable(pools, family, this.ctx.nowMs)) {
        if (left <= 0) break;
        const pb = await this.block(b.metadata.name);
        if (pb) left -= this.take(w, pb, left);
      }
    }
    if (left > 0) throw this.exhausted(pools, family);
  }

  private async takeFromAffine(w: Work, pools: Pool[], want: number): Promise<number> {
    const { env } = this.ctx;
    let taken = 0;
    for (const pool of pools) {
      const mine = env.affinities
        .filter((a) => a.spec.state === 'confirmed' && poolHoldsBlock(pool, parseCidr(a.spec.cidr)))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      for (const a of mine) {
        if (taken >= want) return taken;
        const pb = await this.block(a.metadata.name);
        if (pb && pb.obj.spec.affinity === env.node) taken += this.take(w, pb, want - taken);
      }
    }
    return taken;
  }

  private take(w: Work, pb: PlannedBlock, count: number): number {
    const { nowMs, env } = this.ctx;
    const got = allocateNext(pb.obj.spec, count, w.req.attrs, nowMs, env.settings.cooldownMs);
    for (const holding of got) pb.grants.push({ work: w, holding, specific: false });
    return got.length;
  }

  /** Blocks of `family` the node holds or is claiming (the per-family maxBlocksPerNode count). */
  private heldBlocks(family: IpFamily): number {
    return this.ctx.env.affinities.filter(
      (a) => a.spec.state !== 'pendingDeletion' && parseCidr(a.spec.cidr).family === family,
    ).length;
  }

  private mayClaim(family: IpFamily): boolean {
    const { maxBlocksPerNode } = this.ctx.env.settings;
    return maxBlocksPerNode === 0 || this.heldBlocks(family) < maxBlocksPerNode;
  }

  /**
   * Claims a block: the node's own half-done claim first (it already counts against the limit),
   * else a new one in the first pool that has one, within maxBlocksPerNode.
   */
  private async claimIn(pools: Pool[], family: IpFamily): Promise<PlannedBlock | undefined> {
    const { ds, env, cache } = this.ctx;
    const taken = await env.taken();
    for (const pool of pools) {
      const unfinished = env.affinities.find(
        (a) => a.spec.state === 'pending' && poolHoldsBlock(pool, parseCidr(a.spec.cidr)),
      );
      if (!unfinished && !this.mayClaim(family)) continue;
      const claimed = unfinished
        ? await claimBlock(ds, env.node, pool, taken, parseCidr(unfinished.spec.cidr))
        : await claimBlock(ds, env.node, pool, taken);
      if (unfinished) env.affinities = env.affinities.filter((a) => a !== unfinished);
      if (!claimed) continue;
      cache.put(claimed.block);
      taken.add(claimed.block.spec.cidr);
      env.affinities.push(claimed.affinity);
      return this.block(claimed.block.metadata.name);
    }
    return undefined;
  }

  private exhausted(pools: Pool[], family: IpFamily): IpamError {
    const { env } = this.ctx;
    const names = pools.map((p) => `${p.name} (${formatCidr(p.cidr)})`).join(', ');
    const why: string[] = [];
    if (!this.mayClaim(family)) {
      why.push(
        `node ${env.node} holds ${this.heldBlocks(family)} IPv${family} blocks, maxBlocksPerNode is ${env.settings.maxBlocksPerNode}`,
      );
    }
    if (env.settings.strictAffinity) why.push('strictAffinity forbids borrowing');
    return new IpamError(
      'PoolExhausted',
      `no free IPv${family} address for node ${env.node} in IPPool ${names}${why.length ? `: ${why.join('; ')}` : ''}`,
    );
  }
}

/**
 * The pools a request names, by family. Unknown names fail with NoPool; two pools of one family,
 * or a pool of a family the request asks no address of, fail with InvalidArgument.
 */
export function namedPools(w: Work, pools: Pool[]): Partial<Record<IpFamily, string>> {
  const out: Partial<Record<IpFamily, string>> = {};
  for (const [i, name] of w.req.pools.entries()) {
    const pool = pools.find((p) => p.name === name || formatCidr(p.cidr) === name);
    if (!pool) throw new IpamError('NoPool', `no usable IPPool named "${name}"`);
    const family = pool.cidr.family;
    if (out[family] !== undefined) {
      throw new IpamError(
        'InvalidArgument',
        `pool[${i}]: a second IPv${family} pool (${name}); name at most one per family`,
      );
    }
    if (w.req.need[family] === 0) {
      throw new IpamError(
        'InvalidArgument',
        `pool[${i}]: ${name} is an IPv${family} pool but the request asks for no IPv${family} address`,
      );
    }
    out[family] = pool.name;
  }
  return out;
}
