// Last-seen IPAMBlocks by name. Writes are compare-and-swaps on the cached resourceVersion, so a
// stale entry costs one conflict and a re-read, never a wrong allocation.
import type { Datastore } from '../datastore/datastore.js';
import type { IPAMBlock } from '../datastore/resources.js';

export class BlockCache {
  private readonly blocks = new Map<string, IPAMBlock>();

  constructor(private readonly ds: Datastore) {}

  /** A private copy of the block (from cache, else read); undefined when it does not exist. */
  async get(name: string): Promise<IPAMBlock | undefined> {
    let block = this.blocks.get(name);
    if (!block) {
      block = await this.ds.ipamBlocks.get(name);
      if (block) this.blocks.set(name, block);
    }
    return block && structuredClone(block);
  }

  /** A private copy of the block as stored now (read, and cached). */
  async fresh(name: string): Promise<IPAMBlock | undefined> {
    this.blocks.delete(name);
    return this.get(name);
  }

  put(block: IPAMBlock): void {
    this.blocks.set(block.metadata.name, structuredClone(block));
  }

  drop(name: string): void {
    this.blocks.delete(name);
  }
}
