// `ip -batch` for routes: rendering one line per op, and mapping `ip -batch - -force` exit code
// and stderr back to one result per op. Pure.
import { errnoFromText, KernelError } from './errors.js';
import { ipToken } from './ip-commands.js';
import { type KernelRoute, MAIN_TABLE, type Nexthop, type RouteSpec, RouteSpecError } from './route-spec.js';

export type RouteOpKind = 'add' | 'replace' | 'delete';

/**
 * One change. add/replace write `route` (canonical) with `protocol`; delete removes the route
 * of that type at dst/table/metric carrying `protocol` (never one of another protocol).
 */
export interface RouteOp {
  op: RouteOpKind;
  route: RouteSpec | KernelRoute;
  protocol: number;
}

function token(value: string | number): string {
  try {
    return ipToken(value, 'token');
  } catch {
    throw new RouteSpecError(`route: unsafe token ${JSON.stringify(String(value))}`);
  }
}

/** Renders one op as an `ip -batch` line (no per-line -4/-6: the family is in the addresses). */
export function renderRouteOp(op: RouteOp): string {
  const r = op.route;
  if (!Number.isInteger(op.protocol) || op.protocol < 1 || op.protocol > 255) {
    throw new RouteSpecError(`route ${r.dst}: invalid protocol ${op.protocol}`);
  }
  const out = ['route', op.op === 'delete' ? 'del' : op.op];
  if (r.type !== 'unicast') out.push(token(r.type));
  out.push(token(r.dst), 'proto', String(op.protocol), 'table', token(r.table ?? MAIN_TABLE));
  if (op.op === 'delete') {
    // No device: a route whose device vanished is gone already, and `dev` would fail to resolve.
    const metric = 'metric' in r ? r.metric : 0;
    if (metric > 0) out.push('metric', token(metric));
    return out.join(' ');
  }
  if (r.type !== 'unicast') return out.join(' ');
  if (r.family === 4 && r.scope) out.push('scope', token(r.scope));
  const nexthops = r.nexthops ?? [];
  if (nexthops.length === 0) {
    if (!r.dev) throw new RouteSpecError(`route ${r.dst}: a unicast route needs a device or a gateway`);
    out.push('dev', token(r.dev));
  } else if (nexthops.length === 1) {
    const [nh] = nexthops as [Nexthop];
    out.push('via', token(nh.via));
    if (nh.dev) out.push('dev', token(nh.dev));
  } else {
    for (const nh of nexthops) {
      out.push('nexthop', 'via', token(nh.via));
      if (nh.dev) out.push('dev', token(nh.dev));
    }
  }
  return out.join(' ');
}

// ---- `ip -batch - -force` results ----

/** Why an op failed: EEXIST, a device missing or down, the batch died before the line, other. */
export type RouteOpFailure = 'exists' | 'device-unavailable' | 'batch-aborted' | 'error';

export type RouteOpResult =
  | { ok: true /** a delete of a route that was not there */; alreadyGone?: boolean }
  | { ok: false; failure: RouteOpFailure; error: KernelError };

export interface BatchErrors {
  /** 1-based batch line → what iproute2 printed for it. */
  byLine: Map<number, string>;
  /** Error text after the last `Command failed` marker: iproute2 gave up on the rest. */
  trailing: string;
}

/** Splits `ip -batch - -force` stderr: each failing line prints its errors, then `Command failed -:N`. */
export function parseBatchStderr(stderr: string): BatchErrors {
  const byLine = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed (?:-|\S+):(\d+)\s*$/.exec(line);
    if (m) {
      byLine.set(Number(m[1]), pending.join('\n').trim());
      pending = [];
    } else if (line.trim()) {
      pending.push(line);
    }
  }
  return { byLine, trailing: pending.join('\n').trim() };
}

const deviceUnavailable = /Cannot find device|Device for nexthop is not up|Nexthop device is not up/i;

function failureOf(op: RouteOp, text: string, errno: KernelError['errno']): RouteOpFailure {
  if (errno === 'EEXIST' && op.op !== 'delete') return 'exists';
  if (deviceUnavailable.test(text)) return 'device-unavailable';
  return 'error';
}

/** Maps a batch's exit code and stderr back to one result per op (`lines[i]` rendered `ops[i]`). */
export function batchResults(
  ops: readonly RouteOp[],
  lines: readonly string[],
  exitCode: number,
  stderr: string,
  describe: (line: string) => string,
): RouteOpResult[] {
  const { byLine, trailing } = parseBatchStderr(stderr);
  // -force: exit 1 when some lines failed. Anything else with errors left over means iproute2
  // exited mid-batch (it does on some parse errors): lines after the last report are unknown.
  const aborted = exitCode !== 0 && (exitCode !== 1 || trailing !== '' || byLine.size === 0);
  const lastReported = Math.max(0, ...byLine.keys());
  return ops.map((op, i): RouteOpResult => {
    const lineNo = i + 1;
    const text = byLine.get(lineNo);
    if (text !== undefined) {
      const errno = errnoFromText(text);
      if (op.op === 'delete' && errno === 'ENOENT') return { ok: true, alreadyGone: true };
      const error = new KernelError(describe(lines[i] ?? ''), errno, text);
      return { ok: false, failure: failureOf(op, text, errno), error };
    }
    if (aborted && lineNo > lastReported) {
      const detail = trailing || `ip -batch exited with code ${exitCode}`;
      return {
        ok: false,
        failure: 'batch-aborted',
        error: new KernelError(describe(lines[i] ?? ''), 'EUNKNOWN', detail),
      };
    }
    return { ok: true };
  });
}
