import { describe, expect, it } from 'vitest';
import { attachmentKey, type Workload, WorkloadTable } from './workloads.js';

const workload = (containerId: string, hostVeth: string, addresses: string[], ifname = 'eth0'): Workload => ({
  network: 'net',
  containerId,
  ifname,
  hostVeth,
  handle: `net.${containerId}.${ifname}`,
  addresses: addresses.map((address) => ({ family: address.includes(':') ? 6 : 4, address })),
});

describe('WorkloadTable', () => {
  it('finds a workload by attachment, by host veth and by address', () => {
    const t = new WorkloadTable();
    const a = workload('c1', 'tby1', ['10.0.0.1', 'fd00::1']);
    t.set(a);
    expect(t.get('c1', 'eth0')).toBe(a);
    expect(t.get('c1', 'eth1')).toBeUndefined();
    expect(t.get('c2', 'eth0')).toBeUndefined();
    expect(t.byVeth('tby1')).toBe(a);
    expect(t.byVeth('tby2')).toBeUndefined();
    expect(t.holderOf('10.0.0.1')).toBe(a);
    expect(t.holderOf('fd00::1')).toBe(a);
    expect(t.holderOf('10.0.0.1', a)).toBeUndefined();
    expect(t.holderOf('10.0.0.2')).toBeUndefined();
    expect(t.size).toBe(1);
    expect(t.all()).toEqual([a]);
  });

  it('tells attachments of one container apart by ifname', () => {
    const t = new WorkloadTable();
    const a = workload('c1', 'tby1', ['10.0.0.1'], 'eth0');
    const b = workload('c1', 'tby2', ['10.0.0.2'], 'net1');
    t.set(a);
    t.set(b);
    expect(t.get('c1', 'eth0')).toBe(a);
    expect(t.get('c1', 'net1')).toBe(b);
    expect(t.size).toBe(2);
    expect(attachmentKey('c1', 'net1')).toBe('c1/net1');
  });

  it('set replaces the entry of the same attachment and drops its old veth and addresses', () => {
    const t = new WorkloadTable();
    const old = workload('c1', 'tby1', ['10.0.0.1']);
    const next = workload('c1', 'tby9', ['10.0.0.9']);
    t.set(old);
    t.set(next);
    expect(t.size).toBe(1);
    expect(t.get('c1', 'eth0')).toBe(next);
    expect(t.byVeth('tby1')).toBeUndefined();
    expect(t.byVeth('tby9')).toBe(next);
    expect(t.holderOf('10.0.0.1')).toBeUndefined();
    expect(t.holderOf('10.0.0.9')).toBe(next);
    expect(t.all()).toEqual([next]);
  });

  it('set with the same address keeps one holder, the new object', () => {
    const t = new WorkloadTable();
    const old = workload('c1', 'tby1', ['10.0.0.1']);
    const next = workload('c1', 'tby1', ['10.0.0.1']);
    t.set(old);
    t.set(next);
    expect(t.holderOf('10.0.0.1')).toBe(next);
    expect(t.holderOf('10.0.0.1', next)).toBeUndefined();
    expect(t.byVeth('tby1')).toBe(next);
  });

  it('keeps indexes consistent when two workloads claim one address', () => {
    const t = new WorkloadTable();
    const a = workload('c1', 'tby1', ['10.0.0.1']);
    const b = workload('c2', 'tby2', ['10.0.0.1', '10.0.0.2']);
    t.set(a);
    t.set(b);
    expect(t.size).toBe(2);
    expect([a, b]).toContain(t.holderOf('10.0.0.1'));
    expect(t.holderOf('10.0.0.1', a)).toBe(b);
    expect(t.holderOf('10.0.0.1', b)).toBe(a);

    t.delete(a);
    expect(t.get('c1', 'eth0')).toBeUndefined();
    expect(t.byVeth('tby1')).toBeUndefined();
    expect(t.holderOf('10.0.0.1')).toBe(b);
    expect(t.holderOf('10.0.0.1', b)).toBeUndefined();
    expect(t.byVeth('tby2')).toBe(b);

    t.delete({ containerId: 'c2', ifname: 'eth0' });
    expect(t.size).toBe(0);
    expect(t.all()).toEqual([]);
    expect(t.holderOf('10.0.0.1')).toBeUndefined();
    expect(t.holderOf('10.0.0.2')).toBeUndefined();
    expect(t.byVeth('tby2')).toBeUndefined();
  });

  it('delete leaves a host veth that another workload took over meanwhile', () => {
    const t = new WorkloadTable();
    const a = workload('c1', 'tby1', ['10.0.0.1']);
    const b = workload('c2', 'tby1', ['10.0.0.2']);
    t.set(a);
    t.set(b);
    expect(t.byVeth('tby1')).toBe(b);
    t.delete(a);
    expect(t.byVeth('tby1')).toBe(b);
    expect(t.get('c2', 'eth0')).toBe(b);
    expect(t.holderOf('10.0.0.2')).toBe(b);
  });

  it('delete of an unknown attachment changes nothing', () => {
    const t = new WorkloadTable();
    const a = workload('c1', 'tby1', ['10.0.0.1']);
    t.set(a);
    t.delete({ containerId: 'c1', ifname: 'eth1' });
    t.delete({ containerId: 'c9', ifname: 'eth0' });
    expect(t.size).toBe(1);
    expect(t.byVeth('tby1')).toBe(a);
    expect(t.holderOf('10.0.0.1')).toBe(a);
  });
});
