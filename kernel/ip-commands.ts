// Typed `ip` commands and their rendering to `ip -batch` lines. Pure: no I/O here.
import type { IpFamily } from '../common/addr.js';

export type IpCommand =
  | { op: 'link-up'; dev: string }
  | { op: 'link-mtu'; dev: string; mtu: number }
  | { op: 'addr-add'; dev: string; address: string; prefixLength: number; family: IpFamily }
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
    };

const safeToken = /^[A-Za-z0-9_.:/@-]+$/;

export function ipToken(value: string | number, what: string): string {
  const s = String(value);
  if (!safeToken.test(s)) throw new Error(`ip command: invalid ${what} ${JSON.stringify(s)}`);
  return s;
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
      ];
    case 'route-add': {
      // No -4/-6 (not allowed in batch lines): the family is explicit in the destination.
      const out = ['route', 'add'];
      if (cmd.type === 'blackhole') out.push('blackhole');
      const dst = cmd.dst === 'default' ? (cmd.family === 4 ? '0.0.0.0/0' : '::/0') : cmd.dst;
      out.push(ipToken(dst, 'destination'));
      if (cmd.via) out.push('via', ipToken(cmd.via, 'gateway'));
      if (cmd.dev) out.push('dev', ipToken(cmd.dev, 'device'));
      if (cmd.proto !== undefined) out.push('proto', ipToken(cmd.proto, 'protocol'));
      return out;
    }
  }
}

/** `ip -batch` input for a list of commands, one per line. */
export const renderIpBatch = (cmds: readonly IpCommand[]): string =>
  cmds.map((c) => `${renderIpCommand(c).join(' ')}\n`).join('');
