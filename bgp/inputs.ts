// Gathers one node's BgpInputs from the datastore and keeps them current: every Node, the
// BGPConfiguration, the BGPPeers, the IPPools, this node's block affinities and, from every
// IPAM block, the addresses held by a node other than the block's (borrowed), each kept by a
// list + watch (bgp/inputs-feed.ts). The Secrets the configuration and this node's peers name
// are read when first named, all of them again every `secretRefreshMs` (rotated passwords), and
// a missing one also on a recompute at least 5 s after its last read; a failed read other than a
// NotFound keeps the value read before. Of each Node only what bgp/desired.ts reads is kept (its
// labels, addresses and tabby's BGP annotations): kubelet's and other controllers' annotation
// churn changes nothing. `onChange` gets the inputs after a short debounce, and only when they
// differ from the last ones given.
import { addressAt, parseCidr } from '../common/addr.js';
import type { Datastore, ResourceStore } from '../datastore/datastore.js';
import { isDatastoreError } from '../datastore/errors.js';
import { labelsForNode } from '../datastore/names.js';
import {
  BGP_CONFIGURATION_NAME,
  type BGPConfigurationSpec,
  type BGPPeerSpec,
  type BlockAffinitySpec,
  type IPAMBlockSpec,
  type IPPoolSpec,
  NODE_BGP_ANNOTATIONS,
  type NodeInfo,
  type Resource,
  type SecretKeyRef,
} from '../datastore/resources.js';
import type { Log } from '../felix/log.js';
import { peerAppliesTo } from './desired-peers.js';
import { DEFAULT_FEED_RETRY, Feed, type FeedRetry, type FeedSource } from './inputs-feed.js';
import { type BgpInputs, secretRefKey } from './inputs-types.js';

export interface BgpInputsSourceOptions {
  ds: Datastore;
  node: string;
  log: Log;
  onChange: (inputs: BgpInputs) => void;
  /** Changes closer together than this are given as one. Default 20 ms. */
  debounceMs?: number;
  /** How often the Secrets in use are read again. Default 60 s. */
  secretRefreshMs?: number;
  retry?: FeedRetry;
}

/** The addresses of one block held by a node other than its affinity's. */
interface Borrowed {
  here: string[];
  elsewhere: string[];
}

/** A Secret key as last read: its value, or why there is none. */
interface SecretRead {
  value?: string;
  error?: string;
  /** Date.now() of the read. */
  at: number;
}

/** A Secret key without a value is read again on a recompute after this long (not on every one). */
const MISSING_SECRET_RETRY_MS = 5000;

export class BgpInputsSource {
  private readonly nodes: Feed<NodeInfo, NodeInfo>;
  private readonly configs: Feed<Resource<BGPConfigurationSpec>, BGPConfigurationSpec>;
  private readonly peers: Feed<Resource<BGPPeerSpec>, Resource<BGPPeerSpec>>;
  private readonly pools: Feed<Resource<IPPoolSpec>, IPPoolSpec>;
  private readonly affinities: Feed<Resource<BlockAffinitySpec>, string>;
  private readonly blocks: Feed<Resource<IPAMBlockSpec>, Borrowed>;
  private readonly feeds: Feed<unknown, unknown>[];
  private readonly secrets = new Map<string, SecretRead>();
  private started = false;
  private stopped = false;
  private debounce: NodeJS.Timeout | undefined;
  private secretTimer: NodeJS.Timeout | undefined;
  private emitting: Promise<void> | undefined;
  private again = false;
  private last: BgpInputs | undefined;
  private lastText = '';
  private resolveFirst: (inputs: BgpInputs | undefined) => void = () => {};
  private readonly first: Promise<BgpInputs | undefined>;

  constructor(private readonly o: BgpInputsSourceOptions) {
    const { ds, node, log } = o;
    const retry = o.retry ?? DEFAULT_FEED_RETRY;
    const changed = () => this.schedule();
    const feed = <R, T>(source: FeedSource<R>, map: (raw: R) => T | undefined) =>
      new Feed<R, T>(source, map, changed, log, retry);
    this.nodes = feed<NodeInfo, NodeInfo>(
      {
        what: 'Nodes',
        watchFirst: true,
        list: async () => ({ items: await ds.listNodeInfos() }),
        watch: (onEvent) => ds.watchNodes(onEvent),
        key: (n) => n.name,
      },
      bgpNodeView,
    );
    this.configs = feed(storeSource(ds.bgpConfigurations), (r) =>
      r.metadata.name === BGP_CONFIGURATION_NAME ? r.spec : undefined,
    );
    this.peers = feed(storeSource(ds.bgpPeers), (r) => r);
    this.pools = feed(storeSource(ds.ipPools), (r) => r.spec);
    this.affinities = feed(storeSource(ds.blockAffinities, labelsForNode(node)), (r) =>
      r.spec.node === node && r.spec.state === 'confirmed' ? r.spec.cidr : undefined,
    );
    this.blocks = feed(storeSource(ds.ipamBlocks), (r) => borrowedIn(r.spec, node));
    this.feeds = [this.nodes, this.configs, this.peers, this.pools, this.affinities, this.blocks] as Feed<
      unknown,
      unknown
    >[];
    this.first = new Promise((r) => {
      this.resolveFirst = r;
    });
  }

  /** Starts following the datastore; resolves with the first complete inputs (undefined if stopped first). */
  start(): Promise<BgpInputs | undefined> {
    if (!this.started && !this.stopped) {
      this.started = true;
      for (const f of this.feeds) f.start();
      this.secretTimer = setInterval(() => void this.rereadSecrets(), this.o.secretRefreshMs ?? 60_000);
      this.secretTimer.unref?.();
    }
    return this.first;
  }

  /** The last inputs given to `onChange`. */
  current(): BgpInputs | undefined {
    return this.last;
  }

  /**
   * Reads this node's block affinities again (consistently, not from a cache; or takes them from
   * a caller that just listed them that way: `affinities`) and gives the
   * inputs at once, without the debounce: call after claiming a block so that it is exported now.
   * Never rejects (a failed read is logged; the watch brings the change a little later).
   */
  async refresh(affinities?: Resource<BlockAffinitySpec>[]): Promise<BgpInputs | undefined> {
    if (!this.started || this.stopped) return this.last;
    try {
      await this.affinities.relist(
        async () => affinities ?? (await this.o.ds.blockAffinities.list(labelsForNode(this.o.node))).items,
      );
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'BGP inputs: re-reading block affinities failed');
    }
    clearTimeout(this.debounce);
    this.debounce = undefined;
    await this.emit();
    return this.last;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.secretTimer);
    this.resolveFirst(undefined);
    await Promise.all(this.feeds.map((f) => f.stop()));
  }

  private schedule(): void {
    if (this.stopped || this.debounce || !this.feeds.every((f) => f.synced)) return;
    // The first inputs go out as soon as every collection is listed.
    const wait = this.last ? (this.o.debounceMs ?? 20) : 0;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.emit();
    }, wait);
  }

  /** Builds the inputs and gives them when they changed; one build at a time, the last one wins. */
  private emit(): Promise<void> {
    if (this.emitting) {
      this.again = true;
      return this.emitting;
    }
    this.emitting = (async () => {
      do {
        this.again = false;
        const inputs = await this.build();
        if (this.stopped) return;
        const text = serialize(inputs);
        if (text === this.lastText) continue;
        this.lastText = text;
        this.last = inputs;
        try {
          this.o.onChange(inputs);
        } catch (e) {
          this.o.log.error({ err: (e as Error).message }, 'BGP inputs: onChange failed');
        }
        this.resolveFirst(inputs);
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.emitting = undefined;
    });
    return this.emitting;
  }

  private async build(): Promise<BgpInputs> {
    const { node } = this.o;
    const nodes = [...this.nodes.items.values()].sort((a, b) => a.name.localeCompare(b.name));
    const config = this.configs.items.get(BGP_CONFIGURATION_NAME);
    const peers = [...this.peers.items.values()].sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
    const here: string[] = [];
    const elsewhere: string[] = [];
    for (const b of this.blocks.items.values()) {
      here.push(...b.here);
      elsewhere.push(...b.elsewhere);
    }
    const labels = nodes.find((n) => n.name === node)?.labels ?? {};
    const refs = secretRefs(config, peers, node, labels);
    const now = Date.now();
    await this.readSecrets(
      refs.filter((r) => {
        const read = this.secrets.get(secretRefKey(r));
        return !read || (read.value === undefined && now - read.at > MISSING_SECRET_RETRY_MS);
      }),
    );
    const secrets = new Map<string, string>();
    const secretErrors = new Map<string, string>();
    for (const ref of refs) {
      const k = secretRefKey(ref);
      const read = this.secrets.get(k);
      if (read?.value !== undefined) secrets.set(k, read.value);
      else if (read?.error !== undefined) secretErrors.set(k, read.error);
    }
    const inputs: BgpInputs = {
      node,
      nodes,
      peers,
      secrets,
      pools: [...this.pools.items.values()].sort((a, b) => a.cidr.localeCompare(b.cidr)),
      affineBlocks: [...new Set(this.affinities.items.values())].sort(),
      borrowedHere: [...new Set(here)].sort(),
      borrowedElsewhere: [...new Set(elsewhere)].sort(),
    };
    if (config) inputs.config = config;
    if (secretErrors.size > 0) inputs.secretErrors = secretErrors;
    return inputs;
  }

  /**
   * Reads Secret keys; true when a value (or why there is none) changed. Only a NotFound (the
   * Secret or its key is gone) takes a value away: after any other failure (an API timeout, a
   * 403) the last value read stays in use, so that a failed re-read does not tear down the
   * sessions it protects. A key never read successfully is missing, with the error.
   */
  private async readSecrets(refs: SecretKeyRef[]): Promise<boolean> {
    let changed = false;
    await Promise.all(
      refs.map(async (ref) => {
        const k = secretRefKey(ref);
        let read: SecretRead;
        try {
          const value = await this.o.ds.readSecretKey(ref.namespace, ref.name, ref.key);
          read = value === undefined ? { at: Date.now() } : { value, at: Date.now() };
        } catch (e) {
          if (isDatastoreError(e, 'NotFound')) read = { at: Date.now() };
          else {
            const error = e instanceof Error ? e.message : String(e);
            const kept = this.secrets.get(k);
            if (kept?.value !== undefined) {
              this.o.log.warn(
                { secret: `${ref.namespace}/${ref.name}`, key: ref.key, err: error },
                'BGP inputs: reading a Secret failed; keeping the value read before',
              );
              return;
            }
            read = { error, at: Date.now() };
          }
        }
        const before = this.secrets.get(k);
        if (before?.value !== read.value || before?.error !== read.error) changed = true;
        this.secrets.set(k, read);
      }),
    );
    return changed;
  }

  /** Reads every Secret in use again (rotated passwords); forgets those no longer named. */
  private async rereadSecrets(): Promise<void> {
    if (!this.last || this.stopped) return;
    const { config, peers, nodes, node } = this.last;
    const refs = secretRefs(config, peers, node, nodes.find((n) => n.name === node)?.labels ?? {});
    const inUse = new Set(refs.map(secretRefKey));
    for (const k of this.secrets.keys()) if (!inUse.has(k)) this.secrets.delete(k);
    if (await this.readSecrets(refs)) this.schedule();
  }
}

const BGP_ANNOTATION_KEYS: readonly string[] = Object.values(NODE_BGP_ANNOTATIONS);

/**
 * What BGP reads of a Node: its name, labels (BGPPeer node selectors), addresses and tabby's BGP
 * annotations. Other annotations (kubelet, other controllers) change often and matter not.
 */
export function bgpNodeView(n: NodeInfo): NodeInfo {
  const annotations: Record<string, string> = {};
  for (const k of BGP_ANNOTATION_KEYS) {
    const v = n.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  return { name: n.name, labels: n.labels ?? {}, annotations, addresses: n.addresses ?? [] };
}

/** A CRD collection as a feed source: cached lists (the watch replays from the list's version). */
function storeSource<S>(store: ResourceStore<S>, labels?: Record<string, string>): FeedSource<Resource<S>> {
  return {
    what: store.kind,
    list: () => store.list(labels, { cached: true }),
    watch: (onEvent, resourceVersion) => store.watch(onEvent, { resourceVersion, labels }),
    key: (r) => r.metadata.name,
  };
}

/** The addresses of a block held by nodes other than its affinity's; undefined when none. */
export function borrowedIn(block: IPAMBlockSpec, node: string): Borrowed | undefined {
  const out: Borrowed = { here: [], elsewhere: [] };
  try {
    const cidr = parseCidr(block.cidr);
    for (const [ordinal, index] of (block.allocations ?? []).entries()) {
      if (index === null || index === undefined) continue;
      const holder = block.attributes?.[index]?.node;
      if (!holder || holder === block.affinity) continue;
      (holder === node ? out.here : out.elsewhere).push(addressAt(cidr, ordinal));
    }
  } catch {
    return undefined; // a malformed block: nothing to route (the IPAM checker reports it)
  }
  return out.here.length > 0 || out.elsewhere.length > 0 ? out : undefined;
}

/** The Secret keys in use: the mesh password and the passwords of the peers that apply here. */
function secretRefs(
  config: BGPConfigurationSpec | undefined,
  peers: Resource<BGPPeerSpec>[],
  node: string,
  labels: Record<string, string>,
): SecretKeyRef[] {
  const refs: SecretKeyRef[] = [];
  const add = (ref: unknown) => {
    const r = ref as Partial<SecretKeyRef> | undefined;
    const ok = (v: unknown): v is string => typeof v === 'string' && v !== '';
    if (ok(r?.namespace) && ok(r.name) && ok(r.key))
      refs.push({ namespace: r.namespace, name: r.name, key: r.key });
  };
  add(config?.meshPassword);
  for (const p of peers) {
    if (p.spec.password === undefined) continue;
    let applies = true;
    try {
      applies = peerAppliesTo(p.spec, node, labels);
    } catch {}
    if (applies) add(p.spec.password);
  }
  const unique = new Map(refs.map((r) => [secretRefKey(r), r]));
  return [...unique.values()];
}

/** A comparable text of the inputs (Maps written as sorted entries). */
function serialize(inputs: BgpInputs): string {
  const entries = (m?: Map<string, string>) => (m ? [...m.entries()].sort() : []);
  return JSON.stringify({
    ...inputs,
    secrets: entries(inputs.secrets),
    secretErrors: entries(inputs.secretErrors),
  });
}
