// The Nodes of the in-memory Datastore: labels, annotations and addresses, with watches that see
// every change from the moment they open (like `watchNodes` on the API server). Copies in and out.

import type { NodeWatchEvent, Watch } from './datastore.js';
import { memoryWatcher } from './memory-watch.js';
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
    return memoryWatcher(this.watchers, (e: NodeWatchEvent) =>
      onEvent({ type: e.type, object: copy(e.object) }),
    ).watch;
  }

  private emit(type: NodeWatchEvent['type'], node: NodeInfo): void {
    const event = { type, object: copy(node) };
    for (const w of this.watchers) w(event);
  }
}
