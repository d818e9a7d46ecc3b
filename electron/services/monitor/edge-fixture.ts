import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { runtimeCommand, waitForListening } from '../deploy/local';

/**
 * For the monitoring tests and the benchmark: an endpoint "operations" runs
 * (the real edge runtime as a child process on loopback, with its own state
 * folder and tokens), and traffic to it.
 */

export const RUNTIME_DIR = path.resolve(__dirname, '..', '..', '..', 'resources', 'runtime');

export interface RemoteEdge {
  url: string;
  port: number;
  proc: ChildProcess;
}

export interface EdgeTokens {
  token: string;
  adminToken: string;
}

/** Starts the edge runtime with a bundle, a state folder and tokens; `port` 0 picks a free one (give the old one to start it again where it was). */
export async function startRemoteEdge(bundle: string, state: string, tokens: EdgeTokens, port = 0): Promise<RemoteEdge> {
  const cmd = runtimeCommand(RUNTIME_DIR, ['--bundle', bundle, '--state', state, '--port', String(port), '--host', '127.0.0.1'], { MILLWRIGHT_TOKEN: tokens.token, MILLWRIGHT_ADMIN_TOKEN: tokens.adminToken });
  const proc = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const bound = await waitForListening(proc, 30_000, () => undefined);
  return { url: `http://127.0.0.1:${bound}`, port: bound, proc };
}

/** Kills an edge (SIGKILL: no goodbye, as a power cut) and waits for it to be gone. */
export async function killEdge(edge: RemoteEdge, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (edge.proc.exitCode !== null || edge.proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => edge.proc.once('exit', () => resolve()));
  edge.proc.kill(signal);
  await gone;
}

/** POST /predict with rows; the HTTP status. */
export async function predict(url: string, token: string, rows: unknown): Promise<number> {
  const res = await fetch(`${url}/predict`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(rows) });
  await res.arrayBuffer();
  return res.status;
}
