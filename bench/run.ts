// `npm run bench -- <name>`: runs one benchmark (each lives in bench/<name>.ts).
const BENCHMARKS = ['ipam', 'cni', 'convergence', 'fib', 'throughput', 'memory'] as const;

const name = process.argv[2];
if (!name || !(BENCHMARKS as readonly string[]).includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${BENCHMARKS.join('|')}>\n`);
  process.exit(2);
}
await import(`./${name}.js`);
