// API clients that keep their connections. client-node 1.x builds a new https.Agent for every
// request (KubeConfig.applySecurityAuthentication), so each call pays a TCP and TLS handshake —
// on both ends. Here the agent is kept and reused while the TLS material stays the same.
import { Agent } from 'node:https';
import {
  type ApiType,
  type Configuration,
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  ServerConfiguration,
} from '@kubernetes/client-node';

type TlsOptions = Pick<
  Agent['options'],
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
>;
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export class KeepAliveAuth {
  private agent: Agent | undefined;
  /** The TLS material the agent was built with, serialised (credentials may be re-read per call). */
  private tlsKey = '';

  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'default';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context); // headers, token refresh, a fresh agent
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return; // plain http or a proxy agent: leave it
    const tls = Object.fromEntries(TLS_KEYS.map((k) => [k, fresh.options[k]])) as TlsOptions;
    const key = JSON.stringify(tls);
    if (!this.agent || key !== this.tlsKey) {
      this.agent?.destroy();
      this.agent = new Agent({ ...tls, keepAlive: true, maxSockets: 16 });
      this.tlsKey = key;
    }
    fresh.destroy();
    context.setAgent(this.agent);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

export interface ApiClients {
  make<T extends ApiType>(type: new (config: Configuration) => T): T;
  close(): void;
}

/** A factory of API clients for the current context of `kc` that share one keep-alive agent. */
export function keepAliveClients(kc: KubeConfig): ApiClients {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const auth = new KeepAliveAuth(kc);
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: auth },
  });
  return { make: (type) => new type(config), close: () => auth.close() };
}
