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
  ])('%j %j → %s', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});
