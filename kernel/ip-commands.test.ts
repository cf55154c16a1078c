import { describe, expect, it } from 'vitest';
import { errnoFromText } from './errors.js';
import { renderIpBatch, renderIpCommand } from './ip-commands.js';

describe('ip command rendering', () => {
  it('renders batch lines without per-line options, the family explicit in the destination', () => {
    expect(
      renderIpBatch([
        { op: 'addr-add', dev: 'eth1', family: 4, address: '198.18.0.1', prefixLength: 31 },
        { op: 'link-up', dev: 'eth1' },
        { op: 'route-add', family: 4, dst: 'default', via: '198.18.0.0' },
        { op: 'route-add', family: 6, dst: 'default', via: '2001:2::' },
        { op: 'route-add', family: 4, dst: '10.244.1.0/26', type: 'blackhole', proto: 201 },
        { op: 'link-mtu', dev: 'eth1', mtu: 9000 },
      ]),
    ).toBe(
      [
        'address add 198.18.0.1/31 dev eth1',
        'link set dev eth1 up',
        'route add 0.0.0.0/0 via 198.18.0.0',
        'route add ::/0 via 2001:2::',
        'route add blackhole 10.244.1.0/26 proto 201',
        'link set dev eth1 mtu 9000',
        '',
      ].join('\n'),
    );
  });

  it('refuses tokens that could inject another command or option', () => {
    expect(() => renderIpCommand({ op: 'link-up', dev: 'eth1\nlink del eth2' })).toThrow(/invalid device/);
    expect(() => renderIpCommand({ op: 'link-up', dev: 'eth1 down' })).toThrow(/invalid device/);
    expect(() => renderIpCommand({ op: 'route-add', family: 4, dst: '10.0.0.0/8', via: '' })).not.toThrow();
  });
});

describe('pod wiring commands', () => {
  it('renders a veth pair with its peer born in another namespace, its alias, nodad and scope', () => {
    expect(
      renderIpBatch([
        {
          op: 'veth-add',
          name: 'tbyabc',
          mac: 'ee:ee:ee:ee:ee:ee',
          mtu: 1450,
          peer: { name: 'eth0', mac: '02:00:00:00:00:01', netns: '/var/run/netns/cni-1' },
        },
        { op: 'link-alias', dev: 'tbyabc', alias: 'ns/pod|c1,eth0|10.244.0.5' },
        { op: 'addr-add', dev: 'eth0', family: 6, address: 'fd00::5', prefixLength: 128, nodad: true },
        { op: 'route-add', family: 4, dst: '169.254.1.1/32', dev: 'eth0', scope: 'link' },
      ]),
    ).toBe(
      [
        'link add dev tbyabc mtu 1450 address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu 1450 address 02:00:00:00:00:01 netns /var/run/netns/cni-1',
        'link set dev tbyabc alias ns/pod|c1,eth0|10.244.0.5',
        'address add fd00::5/128 dev eth0 nodad',
        'route add 169.254.1.1/32 dev eth0 scope link',
        '',
      ].join('\n'),
    );
  });

  it('renders a bare veth pair and checks the alias with its own pattern', () => {
    expect(renderIpCommand({ op: 'veth-add', name: 'a', peer: { name: 'b' } })).toEqual(
      'link add dev a type veth peer name b'.split(' '),
    );
    expect(() => renderIpCommand({ op: 'link-alias', dev: 'a', alias: 'x y' })).toThrow(/invalid alias/);
    expect(() => renderIpCommand({ op: 'link-alias', dev: 'a', alias: '' })).toThrow(/invalid alias/);
    expect(() => renderIpCommand({ op: 'link-alias', dev: 'a', alias: 'x'.repeat(256) })).toThrow(
      /invalid alias/,
    );
    expect(() => renderIpCommand({ op: 'link-up', dev: 'a|b' })).toThrow(/invalid device/);
    expect(() =>
      renderIpCommand({ op: 'veth-add', name: 'a', peer: { name: 'b', netns: '/run/netns/x\nlink del a' } }),
    ).toThrow(/invalid netns/);
  });
});

describe('bridge commands', () => {
  it('renders a bridge and enslaves a port to it', () => {
    expect(
      renderIpBatch([
        { op: 'bridge-add', name: 'br0' },
        { op: 'link-master', dev: 'eth1', master: 'br0' },
      ]),
    ).toBe('link add name br0 type bridge\nlink set dev eth1 master br0\n');
    expect(() => renderIpCommand({ op: 'link-master', dev: 'eth1', master: 'br0 up' })).toThrow(
      /invalid device/,
    );
  });
});

describe('kernel error codes from iproute2 messages', () => {
  it.each([
    ['RTNETLINK answers: File exists', 'EEXIST'],
    ['Cannot find device "eth9"', 'ENOENT'],
    ['Cannot remove namespace file "/run/netns/x": No such file or directory', 'ENOENT'],
    ['RTNETLINK answers: Device or resource busy', 'EBUSY'],
    ['RTNETLINK answers: Operation not permitted', 'EPERM'],
    ['Error: Nexthop has invalid gateway.', 'ENETUNREACH'],
    ['something new', 'EUNKNOWN'],
  ])('%s → %s', (text, errno) => {
    expect(errnoFromText(text)).toBe(errno);
  });
});
