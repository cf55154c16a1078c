// containerd's config.toml (version 2, containerd 1.6) for a private instance: every path it
// writes (root, state, sockets, opt, runc's root) lives under one directory, and CRI is set up
// for an unprivileged-ish lab VM (see shared/notes/cni.md §4):
//   - restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so the sandbox's -998 is refused
//   - stream_server_address 127.0.0.1, port 0: needs `lo` up in containerd's netns
//   - one CNI bin dir and conf dir, max_conf_num 1
//   - apparmor off: never load profiles into the host kernel
import { join } from 'node:path';

export interface ContainerdLayout {
  /** The private directory; everything below is derived from it. */
  dir: string;
  root: string;
  state: string;
  socket: string;
  ttrpcSocket: string;
  opt: string;
  /** runc's --root (runc's default /run/containerd/runc/<ns> is outside `state`). */
  runcRoot: string;
  config: string;
  log: string;
}

export function containerdLayout(dir: string): ContainerdLayout {
  return {
    dir,
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    ttrpcSocket: join(dir, 'containerd.sock.ttrpc'),
    opt: join(dir, 'opt'),
    runcRoot: join(dir, 'runc'),
    config: join(dir, 'config.toml'),
    log: join(dir, 'containerd.log'),
  };
}

export interface ContainerdConfigOptions {
  dir: string;
  sandboxImage: string;
  cniBinDir: string;
  cniConfDir: string;
  /** containerd's log level (default info). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** Snapshotters and services a lab instance never uses; skipping them quiets the log. */
export const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
] as const;

/** A TOML basic string (JSON's escapes are a subset TOML accepts). */
const str = (s: string): string => JSON.stringify(s);

/** Pure: the config.toml text. */
export function renderContainerdConfig(opts: ContainerdConfigOptions): string {
  const l = containerdLayout(opts.dir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by tabby lab/containerd/config.ts for a private lab instance.
version = 2
root = ${str(l.root)}
state = ${str(l.state)}
disabled_plugins = [${DISABLED_PLUGINS.map(str).join(', ')}]

[grpc]
  address = ${str(l.socket)}

[ttrpc]
  address = ${str(l.ttrpcSocket)}

[debug]
  level = ${str(opts.logLevel ?? 'info')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${str(l.opt)}

[${cri}]
  sandbox_image = ${str(opts.sandboxImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  Root = ${str(l.runcRoot)}

[${cri}.cni]
  bin_dir = ${str(opts.cniBinDir)}
  conf_dir = ${str(opts.cniConfDir)}
  max_conf_num = 1
`;
}
