// Shared pieces of the client tests: running real Debian clients (curl, /usr/bin/python3, java)
// with exactly the environment `mimic env` prints, and raw proxy conversations.
import { connect } from 'node:net';
import { runCli, runProgram, type RunResult, type TestMimic } from '../helpers/mimic.js';

/** Runs a program with exactly `env` plus PATH and HOME (nothing inherited that could help it). */
export const runWith = runProgram;

/** `mimic env --admin` or `mimic env --as R`, as the CLI prints it (JSON form). */
export async function cliEnv(m: TestMimic, ...who: string[]): Promise<Record<string, string>> {
  const r = await runCli(['env', ...who, '--data-dir', m.dataDir, '--json']);
  if (r.code !== 0) throw new Error(`mimic env ${who.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** Sends raw bytes to the proxy and returns everything it answers until it closes (or 3 s pass). */
export function proxyConversation(proxyUrl: string, bytes: string): Promise<string> {
  const u = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(text);
    }, 3000);
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    s.write(bytes);
  });
}

/** curl flags: quiet, errors shown, body then the status code on its own last line. */
export const CURL = ['-sS', '--max-time', '20', '-w', '\n%{http_code}'];

export function curlResult(r: RunResult): { status: number; body: string } {
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}
