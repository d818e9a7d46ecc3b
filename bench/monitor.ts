/**
 * Monitoring benchmark (issue 8), both halves in one JSON:
 *
 *   drift: 1,000,000 rows × 20 inputs binned over a training profile and
 *          their drift worked out, beside numpy/scipy doing the same in the
 *          same run on the same data (bench/lib/monitor-drift.ts).
 *          Target: under 1 second.
 *   poll:  one poll cycle over 200 real edge endpoints on loopback while the
 *          UI's API calls keep going (bench/lib/monitor-poll.ts).
 *          Targets: cycle under 10 seconds, API round trip p99 under 50 ms.
 *
 *   npm run bench monitor
 */
import os from 'node:os';
import { benchDrift } from './lib/monitor-drift';
import { benchPoll } from './lib/monitor-poll';
import { log, round } from './lib/common';

async function main(): Promise<void> {
  log('drift: 1,000,000 rows x 20 inputs');
  const drift = (await benchDrift()) as { met?: boolean };
  log('poll: 200 endpoints');
  const poll = (await benchPoll()) as { met?: Record<string, boolean> };
  const cpus = os.cpus();
  const met = { drift: drift.met === true, poll: Boolean(poll.met && Object.values(poll.met).every(Boolean)) };
  const out = {
    benchmark: 'monitor',
    machine: { cores: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, load_1m: round(os.loadavg()[0]!, 2) },
    drift,
    poll,
    met,
    pass: met.drift && met.poll,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
