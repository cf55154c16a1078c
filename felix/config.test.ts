import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('agent configuration', () => {
  it('takes flags over env over defaults', () => {
    const c = loadConfig(['--node-name', 'n1', '--mtu', '9000'], {
      TABBY_MTU: '1400',
      TABBY_HEALTH_PORT: '0',
    });
    expect(c).toMatchObject({
      nodeName: 'n1',
      mtu: 9000,
      healthPort: 0,
      interfacePrefix: 'tby',
      socket: '/var/run/tabby/cni.sock',
      routeProtocol: 201,
      resyncIntervalMs: 60_000,
      bgpMode: 'sidecar',
      gobgpdPath: '/usr/bin/gobgpd',
      gobgpApi: '127.0.0.1:50051',
      nodeIp: undefined,
    });
  });

  it('reads the BGP speaker settings', () => {
    const c = loadConfig(
      [
        '--node-name',
        'n1',
        '--bgp-mode',
        'spawn',
        '--node-ip',
        '198.18.1.1',
        '--gobgp-api',
        'unix:///run/g.sock',
      ],
      { TABBY_NODE_IPV6: 'fd00::1' },
    );
    expect(c).toMatchObject({
      bgpMode: 'spawn',
      nodeIp: '198.18.1.1',
      nodeIpv6: 'fd00::1',
      gobgpApi: 'unix:///run/g.sock',
    });
  });

  it.each([
    [[], {}, /--node-name \(TABBY_NODE_NAME\): required/],
    [['--node-name', 'N_1'], {}, /not a valid node name/],
    [['--node-name', 'n', '--interface-prefix', 'cali-x'], {}, /--interface-prefix/],
    [['--node-name', 'n', '--mtu', '50'], {}, /--mtu \(TABBY_MTU\): must be between 68/],
    [['--node-name', 'n'], { TABBY_ROUTE_PROTOCOL: 'bird' }, /TABBY_ROUTE_PROTOCOL.*integer/],
    [['--node-name', 'n', '--socket', 'cni.sock'], {}, /--socket.*absolute/],
    [['--node-name', 'n', '--bogus', 'x'], {}, /arguments: .*bogus/],
    [
      ['--node-name', 'n', '--bgp-mode', 'bird'],
      {},
      /--bgp-mode \(TABBY_BGP_MODE\): one of sidecar, spawn, off/,
    ],
    [['--node-name', 'n', '--gobgp-api', '0.0.0.0:50051'], {}, /--gobgp-api.*no authentication/],
    [
      ['--node-name', 'n', '--node-ip', 'fd00::1'],
      {},
      /--node-ip \(TABBY_NODE_IP\): must be an IPv4 address/,
    ],
    [['--node-name', 'n', '--node-ipv6', '10.0.0.1'], {}, /--node-ipv6.*IPv6/],
  ])('%j %j → %s', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});
