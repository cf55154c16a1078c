// `tabby`: the operator CLI. Today: `tabby ipam show [--blocks]`, `tabby ipam check [--json]`,
// `tabby ipam release --handle H [--node N] | --ip A`, `tabby ipam gc [--grace D] [--once]`. Cluster access: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config (the lab prints a KUBECONFIG for its control plane).
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesDatastore } from '../datastore/index.js';
import { checkIpam, Ipam, readSnapshot } from '../ipam/index.js';
import { formatCheck, formatIpamShow } from './ipam-format.js';
import { parseDuration, runIpamGc } from './ipam-gc.js';

const USAGE = `usage:
  tabby ipam show [--blocks]                 pools and usage (--blocks: one line per block)
  tabby ipam check [--json]                  consistency report; exit status 1 on problems
  tabby ipam release --handle H [--node N]   free every address of a handle
  tabby ipam release --ip A                  free one address
  tabby ipam gc [--grace 15m] [--interval D] [--once] [--pool CIDR ...]
                                             free addresses whose pod is gone (after the grace
                                             period; at once when its node is gone); runs until
                                             stopped, one JSON report per run
options: --kubeconfig PATH (default $KUBECONFIG, then ~/.kube/config)`;

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, verb] = positionals;
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
