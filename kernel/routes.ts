// Routes in the kernel FIB, both families: the two I/O calls (list by protocol, apply a batch).
// The route model is in route-spec.ts, `ip -json` parsing in route-json.ts, batch lines and
// their results in route-batch.ts.
import type { IpFamily } from '../common/addr.js';
import { KernelError, toKernelError } from './errors.js';
import { ExecError, run } from './exec.js';
import { ipArgv, ipJson } from './ip.js';
import { listLinks } from './links.js';
import { batchResults, type RouteOp, type RouteOpResult, renderRouteOp } from './route-batch.js';
import { type IpJsonRoute, parseJsonRoute } from './route-json.js';
import type { KernelRoute } from './route-spec.js';

/** Routes carrying `protocol` in every table (both families unless `family` is given). */
export async function listRoutes(
  netns: string | undefined,
  opts: { protocol: number; family?: IpFamily },
): Promise<KernelRoute[]> {
  const families: IpFamily[] = opts.family ? [opts.family] : [4, 6];
  const lists = await Promise.all(
    families.map(async (family) => {
      const args = ['-N', `-${family}`, 'route', 'show', 'table', 'all', 'proto', String(opts.protocol)];
      const entries = await ipJson<IpJsonRoute[]>(netns, args);
      const routes: KernelRoute[] = [];
      for (const entry of entries) {
        const route = parseJsonRoute(family, entry, opts.protocol);
        if (route && route.protocol === opts.protocol) routes.push(route);
      }
      return routes;
    }),
  );
  return lists.flat();
}

async function linkNames(netns: string | undefined): Promise<Set<string>> {
  return new Set((await listLinks(netns)).map((l) => l.ifname));
}

/** Devices named inside multipath nexthops: iproute2 aborts the whole batch if one is missing. */
function nexthopDevices(op: RouteOp): string[] {
  const nexthops = op.op === 'delete' ? [] : (op.route.nexthops ?? []);
  return nexthops.length > 1 ? nexthops.flatMap((nh) => (nh.dev ? [nh.dev] : [])) : [];
}

const BATCH_TIMEOUT_MS = 60_000;

/**
 * Applies `ops` in one `ip -batch - -force` process and returns one result per op. A delete
 * of a route that is already gone succeeds. Rejects (KernelError) only when the batch itself
 * could not run (spawn failure, timeout).
 */
export async function applyRouteBatch(
  netns: string | undefined,
  ops: readonly RouteOp[],
): Promise<RouteOpResult[]> {
  const results: (RouteOpResult | undefined)[] = new Array(ops.length);
  const prefix = ipArgv(netns, []).join(' ');
  const describe = (line: string) => `${prefix} ${line}`;
  const lines = ops.map(renderRouteOp);

  if (ops.some((op) => nexthopDevices(op).length > 0)) {
    const present = await linkNames(netns);
    ops.forEach((op, i) => {
      const missing = nexthopDevices(op).find((d) => !present.has(d));
      if (missing === undefined) return;
      const detail = `Cannot find device "${missing}"`;
      results[i] = {
        ok: false,
        failure: 'device-unavailable',
        error: new KernelError(describe(lines[i] ?? ''), 'ENOENT', detail),
      };
    });
  }

  const sent = ops.flatMap((op, i) => (results[i] ? [] : [{ op, i, line: lines[i] ?? '' }]));
  if (sent.length > 0) {
    let exitCode = 0;
    let stderr = '';
    try {
      const input = sent.map((s) => `${s.line}\n`).join('');
      ({ stderr } = await run(ipArgv(netns, ['-batch', '-', '-force']), {
        input,
        timeoutMs: BATCH_TIMEOUT_MS,
      }));
    } catch (e) {
      if (!(e instanceof ExecError) || e.exitCode === null) throw toKernelError(e);
      exitCode = e.exitCode;
      stderr = e.stderr;
    }
    const sentResults = batchResults(
      sent.map((s) => s.op),
      sent.map((s) => s.line),
      exitCode,
      stderr,
      describe,
    );
    sent.forEach((s, k) => {
      results[s.i] = sentResults[k];
    });
  }
  return results.map((r) => r ?? { ok: true });
}
