import { describe, expect, it } from 'vitest';
import { aliasFor, handleFor, handleInNetwork, parseAlias, randomPodMac, vethName } from './naming.js';

describe('names the agent derives', () => {
  it('host veth names: prefix + hash, 15 chars, stable per pod, distinct per pod and interface', () => {
    const pod = { namespace: 'default', name: 'web-0' };
    const a = vethName('tby', 'c1', 'eth0', pod);
    expect(a).toMatch(/^tby[0-9a-f]{12}$/);
    expect(vethName('tby', 'c2', 'eth0', pod)).toBe(a); // a new sandbox of the same pod
    expect(vethName('tby', 'c1', 'eth0', { namespace: 'default', name: 'web-1' })).not.toBe(a);
    expect(vethName('tby', 'c1', 'net1', pod)).not.toBe(a);
    expect(vethName('tby', 'c1', 'eth0')).not.toBe(vethName('tby', 'c2', 'eth0')); // no identity: by container
    expect(vethName('abcdefg', 'c1', 'eth0')).toHaveLength(15);
  });

  it('handles name their network without ambiguity', () => {
    expect(handleFor('k8s-pod-network', 'abc', 'eth0')).toBe('k8s-pod-network/abc');
    expect(handleFor('net', 'abc', 'net1')).toBe('net/abc/net1');
    expect(handleInNetwork(handleFor('a.b', 'c', 'eth0'), 'a')).toBe(false);
    expect(handleInNetwork(handleFor('a', 'b.c', 'eth0'), 'a')).toBe(true);
  });

  it("veth aliases round-trip, and foreign aliases are not tabby's", () => {
    const owner = {
      network: 'net',
      containerId: 'abc.def',
      ifname: 'eth0',
      addresses: ['10.244.0.5', 'fd00::5'],
    };
    expect(parseAlias(aliasFor(owner))).toEqual(owner);
    expect(parseAlias(undefined)).toBeUndefined();
    expect(parseAlias('some admin note')).toBeUndefined();
    expect(parseAlias('tabby|net|eth0||')).toBeUndefined();
  });

  it('pod MACs are unicast and locally administered', () => {
    for (let i = 0; i < 20; i++) {
      const first = Number.parseInt(randomPodMac().slice(0, 2), 16);
      expect(first & 1).toBe(0);
      expect(first & 2).toBe(2);
    }
  });
});
