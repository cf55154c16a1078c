// `tabby`: the operator CLI. `tabby node status` and `tabby routes` look at this node (its gobgpd,
// its FIB: run them on the node, or in the agent's pod); `tabby ipam ...` works on the cluster:
// --kubeconfig, else $KUBECONFIG, else ~/.kube/config (the lab prints a KUBECONFIG).
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { GobgpClient } from '../bgp/gobgp-client.js';
import { DEFAULT_API_ADDRESS } from '../bgp/gobgpd-process.js';
import { kubernetesDatastore } from '../datastore/index.js';
import { checkIpam, Ipam, readSnapshot } from '../ipam/index.js';
import { listRoutes } from '../kernel/index.js';
import { formatCheck, formatIpamShow } from './ipam-format.js';
import { parseDuration, runIpamGc } from './ipam-gc.js';
import { formatNodeStatus, type NodeStatus, redactNodeStatus } from './node-status.js';
import { formatRoutes } from './routes-format.js';

/** gobgpd's view, passwords redacted (gobgpd returns them in clear). */
async function readNodeStatus(target: string): Promise<NodeStatus> {
  const client = new GobgpClient({ target });
  try {
    const global = await client.getGlobal();
    return redactNodeStatus({ global, peers: global ? await client.listPeers({ advertised: true }) : [] });
  } finally {
    client.close();
  }
}

const USAGE = `usage:
  tabby node status [--gobgp-api A] [--json] this node's BGP speaker and peers (gobgpd's view)
  tabby routes [--route-protocol N] [--json] the routes tabby owns in this node's FIB
  tabby ipam show [--blocks]                 pools and usage (--blocks: one line per block)
  tabby ipam check [--json]                  consistency report; exit status 1 on problems
  tabby ipam release --handle H [--node N]   free every address of a handle
  tabby ipam release --ip A                  free one address
  tabby ipam gc [--grace 15m] [--interval D] [--once] [--pool CIDR ...]
                                             free addresses whose pod is gone (after the grace
                                             period; at once when its node is gone); runs until
                                             stopped, one JSON report per run
options: --kubeconfig PATH (default $KUBECONFIG, then ~/.kube/config)
         --gobgp-api A (default $TABBY_GOBGP_API, then ${DEFAULT_API_ADDRESS})
         --route-protocol N (default $TABBY_ROUTE_PROTOCOL, then 201)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      blocks: { type: 'boolean' },
      json: { type: 'boolean' },
      handle: { type: 'string' },
      node: { type: 'string' },
      ip: { type: 'string' },
      grace: { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean' },
      pool: { type: 'string', multiple: true },
      'gobgp-api': { type: 'string' },
      'route-protocol': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, verb] = positionals;
  if (!values.help && group === 'node' && verb === 'status') {
    const target = values['gobgp-api'] ?? process.env.TABBY_GOBGP_API ?? DEFAULT_API_ADDRESS;
    const status = await readNodeStatus(target);
    process.stdout.write(`${values.json ? JSON.stringify(status, null, 2) : formatNodeStatus(status)}\n`);
    return 0;
  }
  if (!values.help && group === 'routes' && !verb) {
    const raw = values['route-protocol'] ?? process.env.TABBY_ROUTE_PROTOCOL ?? '201';
    const protocol = Number(raw);
    if (!/^\d+$/.test(raw) || protocol < 1 || protocol > 255) {
      process.stderr.write(`tabby routes: --route-protocol must be 1-255, got ${raw}\n`);
      return 2;
    }
    const routes = await listRoutes(undefined, { protocol });
    process.stdout.write(
      `${values.json ? JSON.stringify(routes, null, 2) : formatRoutes(routes, protocol)}\n`,
    );
    return 0;
  }
  if (values.help || group !== 'ipam' || !verb) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  const ds = kubernetesDatastore(kc);
  try {
    switch (verb) {
      case 'show':
        process.stdout.write(`${formatIpamShow(await readSnapshot(ds), { blocks: values.blocks })}\n`);
        return 0;
      case 'check': {
        const report = checkIpam(await readSnapshot(ds));
        process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatCheck(report)}\n`);
        return report.ok ? 0 : 1;
      }
      case 'release': {
        const ipam = new Ipam(ds);
        if (values.ip) {
          const freed = await ipam.releaseIP(values.ip);
          process.stdout.write(
            freed
              ? `released ${freed.address} (handle ${freed.attributes.handle})\n`
              : `${values.ip} was not allocated\n`,
          );
          return 0;
        }
        if (values.handle) {
          const r = await ipam.releaseByHandle(values.handle, values.node);
          process.stdout.write(
            `released ${r.released.length ? r.released.join(', ') : 'nothing'} for handle ${r.handle}\n`,
          );
          return 0;
        }
        process.stderr.write(`tabby ipam release: give --handle or --ip\n${USAGE}\n`);
        return 2;
      }
      case 'gc': {
        const graceMs = parseDuration(values.grace ?? '15m', '--grace');
        const intervalMs = values.interval
          ? parseDuration(values.interval, '--interval')
          : Math.max(10_000, graceMs / 2);
        const stop = new AbortController();
        process.once('SIGTERM', () => stop.abort());
        process.once('SIGINT', () => stop.abort());
        const failed = await runIpamGc(ds, {
          graceMs,
          intervalMs,
          once: values.once ?? false,
          pools: values.pool,
          write: (line) => process.stdout.write(`${line}\n`),
          signal: stop.signal,
        });
        return failed > 0 ? 1 : 0;
      }
      default:
        process.stderr.write(`tabby: unknown command "ipam ${verb}"\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await ds.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tabby: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
