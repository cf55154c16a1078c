// The peers step of a BGP reconciler pass: gobgpd's neighbors made to match the desired ones by
// address (add, update, delete), and neighbors a max-prefix limit shut down (adminState pfx_ct)
// re-enabled after a hold-down. gobgpd is tabby's alone, so every neighbor not desired goes.
//
// Updates compare against what this step last applied for the address (what gobgpd reports is
// not always what was sent). Without that memory (agent start, resync, gobgpd restart) they
// compare against what gobgpd reports, minus what it fills in by itself; a field it cannot
// report back (a password, with a client that does not read it) is then re-applied once.
import type { Log } from '../felix/log.js';
import type { DesiredPeer } from './desired-types.js';
import type { GobgpApi, PeerConfig, PeerStatus } from './gobgp-api.js';
import { asConfigured, peerAddress, peerDifferences, toPeerConfig, updateFor } from './peer-compare.js';

export interface PeerStepResult {
  /** Neighbors in gobgpd after the step. */
  count: number;
  /** Desired neighbors that were there before the step (a soft reset reaches them). */
  kept: number;
  /** Per-neighbor failures (the step goes on with the others). */
  errors: unknown[];
  /** When a held-down neighbor is next due for enablePeer (ms from now); undefined: none. */
  wakeInMs: number | undefined;
}

type PeersApi = Pick<GobgpApi, 'listPeers' | 'addPeer' | 'updatePeer' | 'deletePeer' | 'enablePeer'>;

export class PeerStep {
  /** What was last applied per (canonical) address. */
  private readonly applied = new Map<string, PeerConfig>();
  /** Neighbors seen in pfx_ct, since when (ms). */
  private readonly prefixLimited = new Map<string, number>();

  constructor(
    private readonly api: PeersApi,
    private readonly log: Log,
    private readonly holdDownMs: number,
  ) {}

  /** gobgpd may have changed behind our back (restart, reconnect): compare with what it reports. */
  forget(): void {
    this.applied.clear();
    this.prefixLimited.clear();
  }

  /** Neighbors waiting out a max-prefix hold-down, and when they are re-enabled. */
  heldDown(): { address: string; enableAt: Date }[] {
    return [...this.prefixLimited].map(([address, since]) => ({
      address,
      enableAt: new Date(since + this.holdDownMs),
    }));
  }

  /** `fresh`: gobgpd was just started, so it has no neighbors (no need to list them). */
  async apply(desired: readonly DesiredPeer[], fresh: boolean): Promise<PeerStepResult> {
    const reported = fresh ? [] : await this.api.listPeers();
    const have = new Map<string, PeerStatus>();
    // Dynamic neighbors (no configured address) are not tabby's way: left alone.
    for (const p of reported) if (p.config.address) have.set(peerAddress(p.config.address), p);
    const want = new Map(desired.map((p) => [peerAddress(p.address), p]));
    for (const address of this.applied.keys()) if (!have.has(address)) this.applied.delete(address);
    for (const [address] of this.prefixLimited) {
      if (have.get(address)?.adminState !== 'pfx_ct' || !want.has(address))
        this.prefixLimited.delete(address);
    }

    const result: PeerStepResult = { count: have.size, kept: 0, errors: [], wakeInMs: undefined };
    const attempt = async (what: () => Promise<void>): Promise<void> => {
      try {
        await what();
      } catch (e) {
        result.errors.push(e);
      }
    };
    const who = (p: DesiredPeer) => ({ peer: p.address, asn: p.asn, kind: p.kind, source: p.source });

    for (const [address, peer] of want) {
      if (have.has(address)) continue;
      await attempt(async () => {
        const config = toPeerConfig(peer);
        await this.api.addPeer(config);
        this.applied.set(address, config);
        result.count++;
        this.log.info(who(peer), 'BGP peer added');
      });
    }
    for (const [address, peer] of want) {
      const status = have.get(address);
      if (!status) continue;
      result.kept++;
      await attempt(() => this.update(address, peer, status));
    }
    for (const [address, status] of have) {
      if (want.has(address)) continue;
      await attempt(async () => {
        await this.api.deletePeer(status.config.address);
        this.applied.delete(address);
        result.count--;
        this.log.info(
          { peer: status.config.address, description: status.config.description },
          'BGP peer deleted',
        );
      });
    }
    const now = Date.now();
    for (const [address, peer] of want) {
      if (have.get(address)?.adminState !== 'pfx_ct') continue;
      const since = this.prefixLimited.get(address);
      if (since === undefined) {
        this.prefixLimited.set(address, now);
        this.log.warn(
          { ...who(peer), holdDownMs: this.holdDownMs },
          'BGP peer shut down by its max-prefix limit; re-enabled after the hold-down',
        );
      }
      const due = (since ?? now) + this.holdDownMs;
      if (now < due) {
        result.wakeInMs = Math.min(result.wakeInMs ?? Number.POSITIVE_INFINITY, due - now);
        continue;
      }
      await attempt(async () => {
        await this.api.enablePeer(peer.address);
        this.prefixLimited.delete(address);
        this.log.warn(who(peer), 'BGP peer re-enabled after its max-prefix hold-down');
      });
    }
    return result;
  }

  private async update(address: string, peer: DesiredPeer, status: PeerStatus): Promise<void> {
    const config = toPeerConfig(peer);
    const remembered = this.applied.get(address);
    const changed = peerDifferences(config, remembered ?? asConfigured(status.config, config));
    if (changed.length === 0) {
      this.applied.set(address, config);
      return;
    }
    await this.api.updatePeer(updateFor(config, status.config));
    this.applied.set(address, config);
    const unreadable = !remembered && changed.includes('password') && !status.config.password;
    this.log.info(
      { peer: peer.address, kind: peer.kind, source: peer.source, changed },
      unreadable
        ? 'BGP peer updated (gobgpd does not report passwords back: re-applied after a resync)'
        : 'BGP peer updated',
    );
  }
}
