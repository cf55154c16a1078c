import { describe, expect, it } from 'vitest';
import { memoryDatastore } from '../datastore/memory.js';
import { checkIpam, Ipam, readSnapshot } from '../ipam/index.js';
import { formatCheck, formatIpamShow } from './ipam-format.js';

describe('tabby ipam output', () => {
  it('shows pools, blocks and borrowers, and a consistent check', async () => {
    const ds = memoryDatastore({ n1: {}, n2: {} });
    await ds.ipPools.create({ metadata: { name: 'default' }, spec: { cidr: '10.244.0.0/26' } });
    const ipam = new Ipam(ds);
    await ipam.assign('a', 'n1', { v4: 2 });
    await ipam.assign('b', 'n2', { v4: 1 }); // the pool's only block is n1's: n2 borrows
    const s = await readSnapshot(ds);
    expect(formatIpamShow(s, { blocks: true })).toBe(
      [
        'POOL     CIDR           BLOCK  BLOCKS  ADDRESSES  IN USE  STATE',
        'default  10.244.0.0/26  /26    1       64         3       enabled',
        '',
        'BLOCK          AFFINITY  STATE      IN USE  SIZE  BORROWED BY',
        '10.244.0.0/26  n1        confirmed  3       64    n2',
      ].join('\n'),
    );
    expect(formatCheck(checkIpam(s))).toBe('1 pools, 1 blocks, 3 addresses in use, 2 handles: consistent');
  });
});
