// tabby-agent: the per-node agent's entry point. Flags/env → config (a bad value exits 2 naming
// it), the Kubernetes datastore (kubeconfig, or in-cluster), the agent; SIGTERM/SIGINT stop it
// and leave the kernel's pod wiring in place.
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesDatastore } from '../datastore/kubernetes.js';
import { Agent } from './agent.js';
import { startApiTunnel } from './api-tunnel.js';
import { ConfigError, loadConfig, USAGE } from './config.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`tabby-agent: ${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel);
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  if (config.apiserverSocket) {
    const tunnel = await startApiTunnel(config.apiserverSocket);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const server = new URL(cluster.server);
    server.port = String(tunnel.port);
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: server.origin } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
  }
  const ds = kubernetesDatastore(kc, { fieldManager: 'tabby-agent' });
  const agent = new Agent(config, { ds, log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    agent
      .stop()
      .then(() => ds.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: String(e) }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await agent.start();
  } catch (e) {
    if (stopping) return;
    log.fatal({ err: e instanceof Error ? e.stack : String(e) }, 'tabby agent failed to start');
    await agent.stop().catch(() => {});
    await ds.close();
    process.exit(1);
  }
}

await main();
