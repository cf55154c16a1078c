// `npm run lab -- <command>`: the lab runner's command line.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isRunning, listNetns, runInteractive } from '../kernel/index.js';
import { BIRDC, birdSocket } from './bird.js';
import { controlPlaneDown, controlPlaneUp, readControlPlane } from './control-plane/index.js';
import { LabError } from './errors.js';
import { formatStatus } from './format.js';
import { renderContainerlab, writeRendered } from './render.js';
import { labUp } from './runner.js';
import { type LabNodeState, listStates, readState } from './state.js';
import { labStatus, waitForBgp } from './status.js';
import { labDown } from './teardown.js';
import { parseTopology } from './topology/parse.js';
import { TopologyError } from './topology/types.js';

const USAGE = `usage: npm run lab -- <command>

  up FILE [--name NAME] [--no-wait] [--timeout SECONDS]
                          realize a containerlab topology with network namespaces, bridges
                          and routers (FRR or BIRD); waits until every router↔router BGP
                          session is Established (router↔server sessions wait for tabby)
  down NAME               remove everything the lab created (also after a crash)
  status NAME [--json]    nodes, links, daemons, and routers' BGP sessions
  wait NAME [--servers] [--timeout SECONDS]
                          wait for router↔router BGP sessions (--servers: all of them)
  exec NAME NODE -- CMD   run CMD inside NODE's namespace
  vtysh NAME ROUTER [-- VTYSH ARGS]
                          FRR's shell on a lab router (e.g. -- -c 'show bgp ipv4 unicast')
  birdc NAME ROUTER [-- BIRDC ARGS]
                          BIRD's shell on a lab router (e.g. -- show route)
  list                    labs that are up
  validate FILE           check a topology file; creates nothing
  render FILE --out DIR [--name NAME]
                          write a containerlab-ready copy (FRR configs, exec commands)
  control-plane up [--name NAME] [--crds DIR]
                          start etcd + kube-apiserver on loopback, print KUBECONFIG
  control-plane down [--name NAME]
  control-plane status [--name NAME]`;

const say = (msg: string) => process.stderr.write(`lab: ${msg}\n`);

function loadTopology(file: string | undefined, name?: string) {
  if (!file) throw new LabError('a topology FILE is required');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return { text, topology: parseTopology(text, { name, source: file }) };
}

async function main(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const tail = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const { values, positionals } = parseArgs({
    args: dashdash >= 0 ? argv.slice(0, dashdash) : argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      servers: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '90' },
      out: { type: 'string' },
      crds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, ...args] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return cmd || values.help ? 0 : 2;
  }
  switch (cmd) {
    case 'up': {
      const file = args[0];
      const { topology } = loadTopology(file, values.name);
      const timeoutS = timeoutSeconds(values.timeout);
      // Ctrl-C or SIGTERM while coming up: stop between steps and remove what was created.
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => abort.abort(new LabError(`interrupted by ${sig}`));
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        await labUp(topology, { topologyFile: resolve(file as string), progress: say, signal: abort.signal });
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      if (!values['no-wait']) {
        say('waiting for BGP sessions');
        await waitForBgp(topology.name, timeoutS * 1000);
      }
      process.stdout.write(`${formatStatus(await labStatus(topology.name))}\n`);
      return 0;
    }
    case 'wait': {
      const name = need(args[0], 'NAME');
      const s = await waitForBgp(name, timeoutSeconds(values.timeout) * 1000, { servers: values.servers });
      process.stdout.write(`${formatStatus(s)}\n`);
      return 0;
    }
    case 'down': {
      const name = need(args[0], 'NAME');
      const r = await labDown(name, say);
      if (r.existed) say(`lab ${name} removed`);
      else {
        const orphans = (await listNetns()).filter((n) => n.startsWith(`${name}-`));
        say(`lab ${name} is not up; nothing to do`);
        if (orphans.length > 0) {
          say(
            `note: namespaces ${orphans.join(', ')} look like a lab "${name}" but no state file records them; not touched`,
          );
        }
      }
      return 0;
    }
    case 'status': {
      const s = await labStatus(need(args[0], 'NAME'));
      process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      return 0;
    }
    case 'exec': {
      if (tail.length === 0) throw new LabError('exec: give the command after --');
      const n = labNode(need(args[0], 'NAME'), need(args[1], 'NODE'));
      return runInteractive(['ip', 'netns', 'exec', n.netns, ...tail]);
    }
    case 'vtysh': {
      const n = labNode(need(args[0], 'NAME'), need(args[1], 'ROUTER'));
      if (!n.runDir) throw new LabError(`${n.node} is not a router (no FRR)`);
      if (n.daemon === 'bird') throw new LabError(`${n.node} runs BIRD: use \`lab birdc\``);
      return runInteractive(['vtysh', '--vty_socket', n.runDir, ...tail]);
    }
    case 'birdc': {
      const n = labNode(need(args[0], 'NAME'), need(args[1], 'ROUTER'));
      if (!n.runDir || n.daemon !== 'bird') throw new LabError(`${n.node} does not run BIRD`);
      return runInteractive([BIRDC, '-s', birdSocket(n.runDir), ...tail]);
    }
    case 'list': {
      for (const s of listStates()) {
        // A lab still "creating" whose `up` process is gone was left by a crash.
        const phase = s.phase === 'creating' && !isRunning(s.owner) ? 'crashed (run lab down)' : s.phase;
        process.stdout.write(`${s.name}\t${phase}\t${s.nodes.length} nodes\t${s.topologyFile ?? ''}\n`);
      }
      return 0;
    }
    case 'validate': {
      const { topology } = loadTopology(args[0], values.name);
      process.stdout.write(
        `${args[0]}: valid (${topology.nodes.length} nodes, ${topology.links.length} links)\n`,
      );
      return 0;
    }
    case 'render': {
      const out = values.out;
      if (!out) throw new LabError('render: --out DIR is required');
      const { text, topology } = loadTopology(args[0], values.name);
      const files = renderContainerlab(text, topology);
      writeRendered(out, files);
      process.stdout.write(
        `wrote ${files.length} files to ${out}; deploy with: containerlab deploy -t ${resolve(out, files[0]?.path ?? '')}\n`,
      );
      return 0;
    }
    case 'control-plane':
      return controlPlane(args[0], values.name ?? 'default', values.crds);
    default:
      throw new LabError(`unknown command "${cmd}"\n${USAGE}`);
  }
}

async function controlPlane(verb: string | undefined, name: string, crdDir?: string): Promise<number> {
  switch (verb) {
    case 'up': {
      const s = await controlPlaneUp({ name, crdDir, progress: say });
      process.stdout.write(`KUBECONFIG=${s.kubeconfig}\n`);
      return 0;
    }
    case 'down':
      say(
        (await controlPlaneDown(name))
          ? `control plane ${name} stopped and wiped`
          : `control plane ${name} is not up`,
      );
      return 0;
    case 'status': {
      const s = readControlPlane(name);
      if (!s) throw new LabError(`control plane ${name} is not up`);
      const processes = s.processes.map((p) => ({ ...p, running: isRunning(p) }));
      process.stdout.write(`${JSON.stringify({ ...s, processes }, null, 2)}\n`);
      return 0;
    }
    default:
      throw new LabError('control-plane: up, down or status');
  }
}

/** A node of a lab that is up, or an error naming what exists. */
function labNode(name: string, node: string): LabNodeState {
  const state = readState(name);
  if (!state) throw new LabError(`lab "${name}" is not up`);
  const n = state.nodes.find((x) => x.node === node);
  if (!n)
    throw new LabError(
      `lab "${name}" has no node "${node}" (nodes: ${state.nodes.map((x) => x.node).join(', ')})`,
    );
  return n;
}

function timeoutSeconds(text: string | undefined): number {
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0) throw new LabError('--timeout: a positive number of seconds');
  return s;
}

function need(v: string | undefined, what: string): string {
  if (!v) throw new LabError(`${what} is required\n${USAGE}`);
  return v;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const known =
      e instanceof TopologyError ||
      e instanceof LabError ||
      /^TABBY_/.test(String((e as { code?: unknown }).code));
    if (known) say((e as Error).message);
    else say(`${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
