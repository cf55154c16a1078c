import { describe, expect, it } from 'vitest';
import { containerdLayout, DISABLED_PLUGINS, renderContainerdConfig } from './config.js';

const opts = {
  dir: '/run/tabby/containerd-x',
  sandboxImage: 'localhost/tabby-pause:1',
  cniBinDir: '/run/tabby/containerd-x/cni/bin',
  cniConfDir: '/run/tabby/containerd-x/cni/net.d',
};

/** The value of `key = ...` inside `[table]` (tables are not nested in the rendering). */
function value(toml: string, table: string, key: string): string | undefined {
  let current = '';
  for (const line of toml.split('\n')) {
    const header = line.match(/^\[(.+)\]$/);
    if (header) current = header[1] ?? '';
    const kv = line.trim().match(/^([A-Za-z_]+) = (.+)$/);
    if (kv && current === table && kv[1] === key) return kv[2];
  }
  return undefined;
}

describe('containerd config.toml', () => {
  const toml = renderContainerdConfig(opts);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';

  it('is version 2 and keeps every path containerd writes in the private dir', () => {
    expect(value(toml, '', 'version')).toBe('2');
    expect(value(toml, '', 'root')).toBe('"/run/tabby/containerd-x/root"');
    expect(value(toml, '', 'state')).toBe('"/run/tabby/containerd-x/state"');
    expect(value(toml, 'grpc', 'address')).toBe('"/run/tabby/containerd-x/containerd.sock"');
    expect(value(toml, 'ttrpc', 'address')).toBe('"/run/tabby/containerd-x/containerd.sock.ttrpc"');
    expect(value(toml, 'plugins."io.containerd.internal.v1.opt"', 'path')).toBe(
      '"/run/tabby/containerd-x/opt"',
    );
    expect(value(toml, `${cri}.containerd.runtimes.runc.options`, 'Root')).toBe(
      '"/run/tabby/containerd-x/runc"',
    );
  });

  it('sets up CRI for the lab: pause image, loopback streaming, restricted oom_score_adj, no apparmor', () => {
    expect(value(toml, cri, 'sandbox_image')).toBe('"localhost/tabby-pause:1"');
    expect(value(toml, cri, 'stream_server_address')).toBe('"127.0.0.1"');
    expect(value(toml, cri, 'stream_server_port')).toBe('"0"');
    expect(value(toml, cri, 'restrict_oom_score_adj')).toBe('true');
    expect(value(toml, cri, 'disable_apparmor')).toBe('true');
    expect(value(toml, `${cri}.containerd`, 'snapshotter')).toBe('"overlayfs"');
    expect(value(toml, `${cri}.containerd.runtimes.runc`, 'runtime_type')).toBe('"io.containerd.runc.v2"');
  });

  it('points CRI at one CNI bin dir and conf dir, first config only', () => {
    expect(value(toml, `${cri}.cni`, 'bin_dir')).toBe('"/run/tabby/containerd-x/cni/bin"');
    expect(value(toml, `${cri}.cni`, 'conf_dir')).toBe('"/run/tabby/containerd-x/cni/net.d"');
    expect(value(toml, `${cri}.cni`, 'max_conf_num')).toBe('1');
  });

  it('disables unused snapshotters and defaults the log level to info', () => {
    for (const p of DISABLED_PLUGINS) expect(value(toml, '', 'disabled_plugins')).toContain(`"${p}"`);
    expect(value(toml, 'debug', 'level')).toBe('"info"');
    expect(value(renderContainerdConfig({ ...opts, logLevel: 'debug' }), 'debug', 'level')).toBe('"debug"');
  });

  it('escapes paths as TOML basic strings', () => {
    const odd = renderContainerdConfig({ ...opts, cniConfDir: '/tmp/a "b"\\c' });
    expect(value(odd, `${cri}.cni`, 'conf_dir')).toBe('"/tmp/a \\"b\\"\\\\c"');
  });

  it('derives the layout from the dir', () => {
    expect(containerdLayout('/d')).toMatchObject({
      socket: '/d/containerd.sock',
      config: '/d/config.toml',
      log: '/d/containerd.log',
      runcRoot: '/d/runc',
    });
  });
});
