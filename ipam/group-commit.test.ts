import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

describe('group commit', () => {
  it('batches a same-tick burst per key, one batch at a time', async () => {
    const batches: string[][] = [];
    let running = 0;
    const gc = new GroupCommit<string, string>(async (key, batch) => {
      expect(++running).toBe(1);
      batches.push(batch.map((p) => `${key}:${p.item}`));
      await new Promise((r) => setTimeout(r, 5));
      for (const p of batch) p.resolve(p.item.toUpperCase());
      running--;
    });
    const first = await Promise.all(['a', 'b', 'c'].map((x) => gc.submit('n1', x)));
    expect(first).toEqual(['A', 'B', 'C']);
    const p1 = gc.submit('n1', 'd');
    await new Promise((r) => setImmediate(r));
    const p2 = gc.submit('n1', 'e'); // arrives while the first batch runs: joins the next one
    const p3 = gc.submit('n1', 'f');
    expect(await Promise.all([p1, p2, p3])).toEqual(['D', 'E', 'F']);
    expect(batches).toEqual([['n1:a', 'n1:b', 'n1:c'], ['n1:d'], ['n1:e', 'n1:f']]);
  });

  it('rejects a whole batch when processing throws', async () => {
    const gc = new GroupCommit<string, string>(async () => {
      throw new Error('store down');
    });
    await expect(gc.submit('k', 'x')).rejects.toThrow('store down');
  });
});
