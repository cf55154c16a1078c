import { describe, expect, it } from 'vitest';
import { cnitoolCommand, cnitoolContainerId, PLACEHOLDER_NETNS } from './cnitool.js';

const base = { network: 'ptp-t', netconfDir: '/conf', cniPath: ['/a', '/b'] };

describe('cnitool invocation', () => {
  it('passes verb, network and netns path, with a clean environment', () => {
    const { argv, env } = cnitoolCommand({ ...base, verb: 'add', netnsPath: '/run/netns/x' }, '/bin/cnitool');
    expect(argv).toEqual(['/bin/cnitool', 'add', 'ptp-t', '/run/netns/x']);
    expect(env).toEqual({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: '/a:/b', NETCONFPATH: '/conf' });
  });

  it('sets CNI_IFNAME, CNI_ARGS (K=V;K=V) and CAP_ARGS (JSON); extra env last', () => {
    const { env } = cnitoolCommand(
      {
        ...base,
        verb: 'add',
        netnsPath: '/run/netns/x',
        ifname: 'net1',
        cniArgs: { IgnoreUnknown: '1', K8S_POD_NAME: 'p' },
        capArgs: { mac: 'c2:00:00:00:00:01' },
        env: { TABBY_LOG: 'debug' },
      },
      'cnitool',
    );
    expect(env).toMatchObject({
      CNI_IFNAME: 'net1',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p',
      CAP_ARGS: '{"mac":"c2:00:00:00:00:01"}',
      TABBY_LOG: 'debug',
    });
    expect(env).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
  });

  it('runs inside the host netns when asked (nsenter --net, mount namespace kept)', () => {
    const { argv } = cnitoolCommand({ ...base, verb: 'del', netnsPath: '/run/netns/p', hostNetns: 'h' }, 'c');
    expect(argv).toEqual(['nsenter', '--net=/run/netns/h', 'c', 'del', 'ptp-t', '/run/netns/p']);
  });

  it('gives gc and status a placeholder netns; add/check/del need a real one', () => {
    expect(cnitoolCommand({ ...base, verb: 'gc' }, 'c').argv[3]).toBe(PLACEHOLDER_NETNS);
    expect(cnitoolCommand({ ...base, verb: 'status' }, 'c').argv[3]).toBe(PLACEHOLDER_NETNS);
    expect(() => cnitoolCommand({ ...base, verb: 'del' }, 'c')).toThrow(/netnsPath/);
  });

  it("derives cnitool's container ID from the absolute netns path", () => {
    const id = cnitoolContainerId('/run/netns/x');
    expect(id).toMatch(/^cnitool-[0-9a-f]{20}$/);
    expect(cnitoolContainerId('/run/netns/../netns/x')).toBe(id);
    expect(cnitoolContainerId('/run/netns/y')).not.toBe(id);
  });
});
