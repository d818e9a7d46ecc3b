import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SystemCheckResult } from '../../../../shared/api';
import type { JobKindDef } from '../job-kind';

/**
 * Measures this PC: floating-point throughput (what training will feel like)
 * and write speed to the workspace disk (what import will feel like).
 * Later issues scale AutoML time budgets by the CPU score.
 */
export const systemCheck: JobKindDef<{ seconds: number }, SystemCheckResult> = {
  kind: 'system.check',
  title: () => 'Checking this PC',
  run(ctx, { seconds }) {
    const cpuMs = seconds * 1000 * 0.8;
    ctx.progress(0, 'Measuring computing speed…');
    const n = 64;
    const a = new Float64Array(n * n).map((_, i) => ((i * 7919) % 101) / 101);
    const b = new Float64Array(n * n).map((_, i) => ((i * 104729) % 97) / 97);
    const c = new Float64Array(n * n);
    let rounds = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < cpuMs) {
      ctx.throwIfCancelled();
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          const aik = a[i * n + k]!;
          for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + aik * b[k * n + j]!;
        }
      }
      rounds++;
      elapsed = performance.now() - start;
      ctx.progress(Math.min(0.8, (0.8 * elapsed) / cpuMs));
    }
    const cpuScore = (rounds * 2 * n * n * n) / (elapsed / 1000) / 1e6;

    ctx.progress(0.8, 'Measuring disk speed…');
    const tmp = path.join(ctx.workspaceDir, 'tmp', `system-check-${process.pid}-${crypto.randomBytes(4).toString('hex')}.part`);
    const chunk = crypto.randomBytes(1 << 20);
    const totalMB = Math.max(4, Math.min(64, Math.round(seconds * 8)));
    const fd = fs.openSync(tmp, 'w');
    const t0 = performance.now();
    try {
      for (let i = 0; i < totalMB; i++) {
        ctx.throwIfCancelled();
        fs.writeSync(fd, chunk);
        ctx.progress(0.8 + (0.2 * (i + 1)) / totalMB);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    }
    const diskSeconds = (performance.now() - t0) / 1000;
    ctx.progress(1, 'Done');
    return {
      cpuScore: Math.round(cpuScore),
      diskWriteMBps: Math.round(totalMB / Math.max(diskSeconds, 1e-3)),
      cores: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    };
  },
};
