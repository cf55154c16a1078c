// The blocks affine to this node (confirmed BlockAffinities), each of which gets a blackhole.
// Re-read when an ADD got an address from a block not seen yet, and on every resync (blocks
// given back by the leak collector disappear then).
import type { Datastore } from '../datastore/datastore.js';
import { labelsForNode } from '../datastore/names.js';
import type { BlockAffinity } from '../datastore/resources.js';

export class AffineBlocks {
  private blocks = new Set<string>();

  constructor(
    private readonly ds: Datastore,
    private readonly node: string,
    /** With the affinities as listed, so others need not list them again. */
    private readonly onChange: (blocks: string[], affinities: BlockAffinity[]) => void,
  ) {}

  has(cidr: string): boolean {
    return this.blocks.has(cidr);
  }

  current(): string[] {
    return [...this.blocks].sort();
  }

  private last: Promise<string[]> = Promise.resolve([]);

  /**
   * Lists the node's affinities; calls onChange when the set differs. Refreshes run one after
   * another, so an older listing can never overwrite a newer one.
   */
  refresh(): Promise<string[]> {
    const next = this.last.catch(() => []).then(() => this.load());
    this.last = next;
    return next;
  }

  private async load(): Promise<string[]> {
    const { items } = await this.ds.blockAffinities.list(labelsForNode(this.node));
    const next = new Set(
      items.filter((a) => a.spec.node === this.node && a.spec.state === 'confirmed').map((a) => a.spec.cidr),
    );
    const changed = next.size !== this.blocks.size || [...next].some((b) => !this.blocks.has(b));
    this.blocks = next;
    if (changed) this.onChange(this.current(), items);
    return this.current();
  }
}
