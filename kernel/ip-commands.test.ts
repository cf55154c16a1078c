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
