// The reconciler's view of the kernel: list tabby's routes, apply a batch of ops, watch route
// events. linuxKernelPort is the real one (kernel/); tests use FakeKernel (fake-kernel.ts).
import { KernelError } from '../../kernel/errors.js';
import type { RouteOp, RouteOpResult } from '../../kernel/route-batch.js';
import { RouteMonitor } from '../../kernel/route-monitor.js';
import type { KernelRoute } from '../../kernel/route-spec.js';
import { applyRouteBatch, listRoutes } from '../../kernel/routes.js';

export interface RouteWatchHandlers {
  /** A line of `ip monitor route` output. */
  onLine(line: string): void;
  /** The watch is (again) running; events before this moment may have been missed. */
  onStart(): void;
  /** The watch died and restarts after `restartInMs`. */
  onExit?(reason: string, restartInMs: number): void;
}

export interface RouteWatch {
  /** Ends the watch for sure (no process left behind). */
  stop(): Promise<void>;
}

export interface KernelPort {
  /** Every route carrying tabby's protocol, both families, every table. */
  listRoutes(): Promise<KernelRoute[]>;
  /** One result per op; rejects only if the batch could not run at all. */
  applyRoutes(ops: readonly RouteOp[]): Promise<RouteOpResult[]>;
  watchRoutes(handlers: RouteWatchHandlers): RouteWatch;
}

/** The kernel of `netns` (a name under /run/netns; undefined: this process's namespace). */
export function linuxKernelPort(netns: string | undefined, protocol: number): KernelPort {
  return {
    listRoutes: () => listRoutes(netns, { protocol }),
    applyRoutes: (ops) => applyRouteBatch(netns, ops),
    watchRoutes(handlers) {
      const monitor = new RouteMonitor({
        netns,
        onLine: handlers.onLine,
        onStart: () => handlers.onStart(),
        onExit: (exit) => {
          const why = exit.error ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
          handlers.onExit?.(`ip monitor route ended: ${why}`, exit.restartInMs);
        },
      });
      return monitor.start();
    },
  };
}

/** Whatever a failed batch threw, as a KernelError for per-op results. */
export function asKernelError(e: unknown): KernelError {
  if (e instanceof KernelError) return e;
  return new KernelError('ip -batch', 'EUNKNOWN', e instanceof Error ? e.message : String(e));
}
