// Typed `ip` commands and their rendering to `ip -batch` lines. Pure: no I/O here.
import type { IpFamily } from '../common/addr.js';

export type IpCommand =
  | { op: 'link-up'; dev: string }
  | { op: 'link-mtu'; dev: string; mtu: number }
  | {
      op: 'addr-add';
      dev: string;
      address: string;
      prefixLength: number;
      family: IpFamily;
      /** Skip duplicate address detection (IPv6): the address is usable at once. */
      nodad?: boolean;
    }
  | {
      /** A veth pair; the peer may be born in another namespace (name or path). `mtu` sets both ends. */
      op: 'veth-add';
      name: string;
      mac?: string;
      mtu?: number;
      peer: { name: string; mac?: string; netns?: string };
    }
  /** IFLA_IFALIAS; may hold `|` and `,` besides the usual token characters. */
  | { op: 'link-alias'; dev: string; alias: string }
  /** A Linux bridge (STP off, the kernel's default). */
  | { op: 'bridge-add'; name: string }
  /** Enslaves `dev` to the bridge `master`. */
  | { op: 'link-master'; dev: string; master: string }
  | {
      op: 'route-add';
      family: IpFamily;
      /** "default" or a prefix like 10.0.0.0/24. */
      dst: string;
      via?: string;
      dev?: string;
      /** Route protocol number or name (tabby's own number for tabby routes). */
      proto?: number | string;
      type?: 'unicast' | 'blackhole';
      scope?: 'link' | 'host' | 'global';
    };

const safeToken = /^[A-Za-z0-9_.:/@-]+$/;
const safeAlias = /^[A-Za-z0-9_.:/@|,-]{1,255}$/;

function checked(value: string | number, what: string, pattern: RegExp): string {
  const s = String(value);
  if (!pattern.test(s)) throw new Error(`ip command: invalid ${what} ${JSON.stringify(s)}`);
  return s;
}

/** `value` as one `ip` argument; throws if it could split into more or start another line. */
export const ipToken = (value: string | number, what: string): string => checked(value, what, safeToken);

/** `ip link add` arguments for one end of a veth: mtu and MAC address when given. */
function vethEnd(mtu: number | undefined, mac: string | undefined): string[] {
  const out: string[] = [];
  if (mtu !== undefined) out.push('mtu', ipToken(mtu, 'mtu'));
  if (mac !== undefined) out.push('address', ipToken(mac, 'mac'));
  return out;
}

/** Renders one command as the arguments that follow `ip` (also a valid `ip -batch` line). */
export function renderIpCommand(cmd: IpCommand): string[] {
  switch (cmd.op) {
    case 'link-up':
      return ['link', 'set', 'dev', ipToken(cmd.dev, 'device'), 'up'];
    case 'link-mtu':
      return ['link', 'set', 'dev', ipToken(cmd.dev, 'device'), 'mtu', ipToken(cmd.mtu, 'mtu')];
    case 'addr-add':
      return [
        'address',
        'add',
        `${ipToken(cmd.address, 'address')}/${ipToken(cmd.prefixLength, 'prefix length')}`,
        'dev',
        ipToken(cmd.dev, 'device'),
        ...(cmd.nodad ? ['nodad'] : []),
      ];
    case 'veth-add': {
      const out = ['link', 'add', 'dev', ipToken(cmd.name, 'device'), ...vethEnd(cmd.mtu, cmd.mac)];
      out.push('type', 'veth', 'peer', 'name', ipToken(cmd.peer.name, 'device'));
      out.push(...vethEnd(cmd.mtu, cmd.peer.mac));
      if (cmd.peer.netns !== undefined) out.push('netns', ipToken(cmd.peer.netns, 'netns'));
      return out;
    }
    case 'link-alias':
      return [
        'link',
        'set',
        'dev',
        ipToken(cmd.dev, 'device'),
        'alias',
        checked(cmd.alias, 'alias', safeAlias),
      ];
    case 'bridge-add':
      return ['link', 'add', 'name', ipToken(cmd.name, 'device'), 'type', 'bridge'];
    case 'link-master':
      return ['link', 'set', 'dev', ipToken(cmd.dev, 'device'), 'master', ipToken(cmd.master, 'device')];
    case 'route-add': {
      // No -4/-6 (not allowed in batch lines): the family is explicit in the destination.
      const out = ['route', 'add'];
      if (cmd.type === 'blackhole') out.push('blackhole');
      const dst = cmd.dst === 'default' ? (cmd.family === 4 ? '0.0.0.0/0' : '::/0') : cmd.dst;
      out.push(ipToken(dst, 'destination'));
      if (cmd.via) out.push('via', ipToken(cmd.via, 'gateway'));
      if (cmd.dev) out.push('dev', ipToken(cmd.dev, 'device'));
      if (cmd.proto !== undefined) out.push('proto', ipToken(cmd.proto, 'protocol'));
      if (cmd.scope) out.push('scope', ipToken(cmd.scope, 'scope'));
      return out;
    }
  }
}

/** `ip -batch` input for a list of commands, one per line. */
export const renderIpBatch = (cmds: readonly IpCommand[]): string =>
  cmds.map((c) => `${renderIpCommand(c).join(' ')}\n`).join('');
