// The Nodes of the in-memory Datastore: labels, annotations and addresses, with watches that see
// every change from the moment they open (like `watchNodes` on the API server). Copies in and out.
import type { NodeWatchEvent, Watch } from './datastore.js';
import type { NodeInfo } from './resources.js';

const copy = (n: NodeInfo): NodeInfo => structuredClone(n);

export class MemoryNodes {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly watchers = new Set<(e: NodeWatchEvent) => void>();

  get(name: string): NodeInfo | undefined {
    const n = this.nodes.get(name);
    return n && copy(n);
  }

  names(): string[] {
    return [...this.nodes.keys()];
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()].sort((a, b) => a.name.localeCompare(b.name)).map(copy);
  }

  /** Creates or replaces a Node; undefined removes it. */
  set(name: string, info: Omit<NodeInfo, 'name'> | undefined): void {
    const had = this.nodes.get(name);
    if (!info) {
      if (!had) return;
      this.nodes.delete(name);
      this.emit('DELETED', had);
      return;
    }
    const node = copy({ ...info, name });
    this.nodes.set(name, node);
    this.emit(had ? 'MODIFIED' : 'ADDED', node);
  }

  /** Merges annotations (null removes a key); false when there is no such Node. */
  annotate(name: string, annotations: Record<string, string | null>): boolean {
    const node = this.nodes.get(name);
    if (!node) return false;
    const next = { ...node.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.set(name, { ...node, annotations: next });
    return true;
  }

  watch(onEvent: (e: NodeWatchEvent) => void): Watch {
    let stopped = false;
    let resolveDone: (e: Error | undefined) => void = () => {};
    const done = new Promise<Error | undefined>((r) => {
      resolveDone = r;
    });
    const end = (error: Error | undefined) => {
      if (stopped) return;
      stopped = true;
      this.watchers.delete(watcher);
      resolveDone(error);
    };
    const deliver = (e: NodeWatchEvent) => {
      if (stopped) return;
      try {
        onEvent({ type: e.type, object: copy(e.object) });
      } catch (error) {
        end(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const watcher = (e: NodeWatchEvent) => queueMicrotask(() => deliver(e));
    this.watchers.add(watcher);
    return { done, stop: async () => end(undefined) };
  }

  private emit(type: NodeWatchEvent['type'], node: NodeInfo): void {
    const event = { type, object: copy(node) };
    for (const w of this.watchers) w(event);
  }
}
