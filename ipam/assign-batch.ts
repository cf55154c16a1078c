// One batch of assign requests for one node (group commit): plan every request against private
// block copies, write each touched block once (compare-and-swap), re-plan only what conflicted,
// then record all handles in the node's index with one write. A request gets all of its
// addresses or none: partial grants are rolled back.

import type { Datastore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import { cidrResourceName } from '../datastore/names.js';
import type { HandleEntry } from '../datastore/resources.js';
import { BatchPlan, type Committed, type Work, workDone } from './assign-plan.js';
import type { AssignRequest } from './assign-request.js';
import { blockCidr, holdings } from './block.js';
import type { BlockCache } from './block-cache.js';
import { IpamError } from './errors.js';
import type { Pending } from './group-commit.js';
import { type HandleChanges, updateHandles } from './handles.js';
import { loadNodeEnv, type NodeEnv } from './node-env.js';
import { releaseInBlock } from './release-blocks.js';
import { backoff, DEFAULT_RETRY, isCasMiss, type RetryPolicy } from './retry.js';
import type { AssignResult } from './types.js';

export interface BatchDeps {
  ds: Datastore;
  cache: BlockCache;
  now: () => number;
  retry?: RetryPolicy;
}

export async function runAssignBatch(
  deps: BatchDeps,
  node: string,
  batch: Pending<AssignRequest, AssignResult>[],
): Promise<void> {
  const env = await loadNodeEnv(deps.ds, node);
  const works: { pending: Pending<AssignRequest, AssignResult>; work: Work }[] = [];
  const stale: string[] = [];
  for (const p of batch) {
    const entry = env.handles?.spec.handles[p.item.handle];
    if (entry) {
      try {
        const existing = await existingResult(deps, p.item.handle, entry);
        if (existing.addresses.length > 0) {
          p.resolve(existing);
          continue;
        }
        stale.push(p.item.handle); // indexed, but no block holds anything for it: start afresh
      } catch (e) {
        p.reject(e);
        continue;
      }
    }
    works.push({ pending: p, work: { req: p.item, got: [] } });
  }
  await allocate(
    deps,
    env,
    works.map((w) => w.work),
  );

  const ok = works.filter((w) => w.work.error === undefined);
  const failed = works.filter((w) => w.work.error !== undefined);
  try {
    await updateHandles(
      deps.ds,
      node,
      { remove: stale, ...handleChanges(ok.map((w) => w.work)) },
      deps.retry,
      env.handles,
    );
  } catch (e) {
    await rollback(
      deps,
      works.flatMap((w) => w.work.got),
    );
    for (const w of works) w.pending.reject(e);
    return;
  }
  await rollback(
    deps,
    failed.flatMap((w) => w.work.got),
  );
  for (const { pending, work } of works) {
    if (work.error !== undefined) pending.reject(work.error);
    else
      pending.resolve({ handle: work.req.handle, addresses: work.got.map(publicAddress), existing: false });
  }
}

/** Plans and writes until every work is done or has failed; marks leftovers as contention. */
async function allocate(deps: BatchDeps, env: NodeEnv, works: Work[]): Promise<void> {
  const policy = deps.retry ?? DEFAULT_RETRY;
  for (let attempt = 0; ; attempt++) {
    const pending = works.filter((w) => !workDone(w));
    if (pending.length === 0) return;
    if (attempt >= policy.attempts) {
      for (const w of pending) {
        w.error = new IpamError(
          'Contention',
          `handle ${w.req.handle}: blocks kept changing under ${policy.attempts} attempts`,
        );
      }
      return;
    }
    const nowMs = deps.now();
    const plan = new BatchPlan({ ds: deps.ds, cache: deps.cache, env, nowMs });
    for (const w of pending) {
      try {
        await plan.plan(w);
      } catch (e) {
        if (isCasMiss(e)) continue; // a claim raced: plan it again next attempt
        w.error = e;
      }
    }
    const { missed, vanished } = await writePlan(deps, plan);
    if (vanished) await env.refreshAffinities(); // a block was given back meanwhile
    if (missed) await backoff(policy, attempt);
  }
}

/** Writes every block that gained grants; reports whether a write lost a race or found no block. */
async function writePlan(deps: BatchDeps, plan: BatchPlan): Promise<{ missed: boolean; vanished: boolean }> {
  let missed = false;
  let vanished = false;
  await Promise.all(
    [...plan.blocks.values()]
      .filter((pb) => pb.grants.length > 0)
      .map(async (pb) => {
        const name = pb.obj.metadata.name;
        try {
          const saved = await deps.ds.ipamBlocks.update(pb.obj);
          deps.cache.put(saved);
          const cidr = blockCidr(saved.spec);
          for (const g of pb.grants) {
            g.work.got.push({
              family: cidr.family,
              address: g.holding.address,
              block: saved.spec.cidr,
              blockName: name,
              ordinal: g.holding.ordinal,
              sequence: g.holding.attributes.sequence,
              handle: g.holding.attributes.handle,
              specific: g.specific,
            });
          }
        } catch (e) {
          deps.cache.drop(name);
          if (isCasMiss(e)) missed = true;
          else if (isDatastoreError(e, 'NotFound')) missed = vanished = true;
          else for (const g of pb.grants) g.work.error ??= e;
        }
      }),
  );
  return { missed, vanished };
}

function handleChanges(works: Work[]): HandleChanges {
  const add: NonNullable<HandleChanges['add']> = [];
  for (const w of works) {
    const perBlock = new Map<string, number>();
    for (const g of w.got) perBlock.set(g.block, (perBlock.get(g.block) ?? 0) + 1);
    for (const [block, count] of perBlock) add.push({ handle: w.req.handle, block, count });
  }
  return { add };
}

/**
 * Frees addresses written for requests that then failed (exact ordinal, handle and sequence).
 * Best effort: what cannot be freed now stays allocated under the failed request's handle, which
 * the runtime's DEL for that handle (or the leak GC) frees later.
 */
async function rollback(deps: BatchDeps, got: Committed[]): Promise<void> {
  const byBlock = new Map<string, Committed[]>();
  for (const g of got) byBlock.set(g.blockName, [...(byBlock.get(g.blockName) ?? []), g]);
  await Promise.allSettled(
    [...byBlock].map(([name, gs]) =>
      releaseInBlock(deps, name, (h) =>
        gs.some(
          (g) =>
            g.ordinal === h.ordinal &&
            g.sequence === h.attributes.sequence &&
            g.handle === h.attributes.handle,
        ),
      ),
    ),
  );
}

const publicAddress = ({ family, address, block }: Committed) => ({ family, address, block });

/** The addresses a handle already holds, read fresh (a retried request gets the same answer). */
async function existingResult(deps: BatchDeps, handle: string, entry: HandleEntry): Promise<AssignResult> {
  const addresses: AssignResult['addresses'] = [];
  for (const cidr of Object.keys(entry.blocks)) {
    const block = await deps.cache.fresh(cidrResourceName(cidr));
    if (!block) continue;
    const family = blockCidr(block.spec).family;
    for (const h of holdings(block.spec)) {
      if (h.attributes.handle === handle)
        addresses.push({ family, address: h.address, block: block.spec.cidr });
    }
  }
  return { handle, addresses, existing: true };
}
