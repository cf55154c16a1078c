// The executable's entry: real process I/O around runPlugin. Kept to cni/ and node builtins so
// the bundle stays small and starts fast (see README: start-up).
import { readSync } from 'node:fs';
import { callAgent } from './agent-client.js';
import { runPlugin } from './dispatch.js';

/**
 * All of stdin (the network config); '' when stdin is closed. Read synchronously (runtimes give a
 * blocking pipe; no stream machinery to load); a non-blocking stdin is finished as a stream.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(0, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks).toString('utf8');
      chunks.push(chunk.subarray(0, n));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN') return code === 'EOF' ? Buffer.concat(chunks).toString('utf8') : '';
  }
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  process.exitCode = await runPlugin(
    {
      env: process.env,
      stdin: await readStdin(),
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    },
    { callAgent },
  );
}

void main();
