import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderContainerlab } from './render.js';
import { parseTopology } from './topology/parse.js';

const TEXT = readFileSync(fileURLToPath(new URL('./topologies/two-racks.clab.yml', import.meta.url)), 'utf8');

describe('lab render (containerlab-ready copy)', () => {
  const files = renderContainerlab(TEXT, parseTopology(TEXT));
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  const clab = parse(byPath.get('two-racks.clab.yml') ?? '') as {
    topology: {
      nodes: Record<string, { binds?: string[]; exec?: string[]; labels: Record<string, string> }>;
    };
  };

  it('binds an integrated frr.conf and a daemons file into each router', () => {
    expect(clab.topology.nodes.tor1?.binds).toEqual([
      'tor1/frr.conf:/etc/frr/frr.conf',
      'tor1/daemons:/etc/frr/daemons',
    ]);
    expect(byPath.get('tor1/frr.conf')).toContain('interface eth2\n ip address 198.18.1.0/31');
    expect(byPath.get('tor1/daemons')).toContain('bgpd=yes');
  });

  it('adds address and default-route commands to server nodes', () => {
    expect(clab.topology.nodes.node3?.exec).toEqual([
      'ip address add 198.18.2.1/31 dev eth1',
      'ip link set eth1 up',
      'ip route replace default via 198.18.2.0',
    ]);
  });

  it('stays a valid topology for tabby too (labels kept, comments kept)', () => {
    const out = byPath.get('two-racks.clab.yml') ?? '';
    expect(out).toContain('# two-racks: a spine and two top-of-rack routers');
    expect(parseTopology(out).nodes).toHaveLength(7);
    expect(clab.topology.nodes.spine?.labels['tabby.dev/asn']).toBe('65000');
  });
});

describe('lab render of BIRD routers and bridges', () => {
  const read = (f: string) =>
    readFileSync(fileURLToPath(new URL(`./topologies/${f}.clab.yml`, import.meta.url)), 'utf8');

  it('binds bird.conf into a BIRD router and adds the address commands BIRD does not do', () => {
    const text = read('two-racks-bird');
    const files = new Map(renderContainerlab(text, parseTopology(text)).map((f) => [f.path, f.content]));
    const clab = parse(files.get('two-racks-bird.clab.yml') ?? '') as {
      topology: { nodes: Record<string, { binds?: string[]; exec?: string[] }> };
    };
    expect(clab.topology.nodes.tor2?.binds).toEqual(['tor2/bird.conf:/etc/bird/bird.conf']);
    expect(clab.topology.nodes.tor2?.exec).toContain('ip address add 198.18.2.0/31 dev eth2');
    expect(files.get('tor2/bird.conf')).toContain('protocol bgp bgp_spine_eth1 {');
    expect(files.has('tor2/frr.conf')).toBe(false);
  });

  it('keeps a bridge node as kind bridge, noting the host bridge containerlab needs', () => {
    const text = read('one-rack');
    const out = renderContainerlab(text, parseTopology(text))[0]?.content ?? '';
    expect(out).toContain(
      '    rack1:\n      # containerlab: create the host bridge first: ip link add rack1 type bridge && ip link set rack1 up\n      kind: bridge\n',
    );
    expect((parse(out) as { topology: { nodes: Record<string, unknown> } }).topology.nodes.rack1).toEqual({
      kind: 'bridge',
    });
    expect(parseTopology(out).nodes).toHaveLength(5);
  });
});
