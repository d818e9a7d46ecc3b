/**
 * A small load generator for the edge runtime's reliability tests: a few
 * clients on keep-alive connections, each sending its next request as soon
 * as the last one is answered, counting every valid answer and every failed
 * one (another status, an answer the check refuses, a socket error, a
 * timeout). Loopback only; it runs until `stop()` and then stops by itself.
 */
import fs from 'node:fs';
import http from 'node:http';

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface LoadOptions {
  port: number;
  /** Clients sending at once, each on its own keep-alive connection. */
  clients: number;
  /** The `i`-th request (counted over all clients). */
  request: (i: number) => LoadRequest;
  /** Why a 200 answer is not a valid one (its body parsed as JSON), or null when it is. */
  check?: (body: unknown) => string | null;
  /** A request not answered in this time is a failure (default 30 s: slower is a failure, not a hang). */
  timeoutMs?: number;
  /** Stops by itself after this long, whatever happens (default 15 minutes). */
  maxMs?: number;
  /** Requests a second over all clients, at most (default: as fast as answers come). */
  ratePerSecond?: number;
}

export interface Failure {
  /** Milliseconds since the load started. */
  at: number;
  what: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  failed: number;
  /** The first failures, at most 20. */
  failures: Failure[];
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
}

const KEPT_FAILURES = 20;

export class Load {
  private readonly agent: http.Agent;
  private readonly started = Date.now();
  private readonly latencies: number[] = [];
  private readonly failures: Failure[] = [];
  private stopping = false;
  private sent = 0;
  private okCount = 0;
  private failedCount = 0;
  private readonly loops: Promise<void>[];
  private readonly deadline: NodeJS.Timeout;

  constructor(private readonly opts: LoadOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients });
    this.deadline = setTimeout(() => (this.stopping = true), opts.maxMs ?? 15 * 60_000);
    this.loops = Array.from({ length: opts.clients }, () => this.loop());
  }

  /** Requests answered so far, valid or not. */
  get counts(): { requests: number; ok: number; failed: number } {
    return { requests: this.okCount + this.failedCount, ok: this.okCount, failed: this.failedCount };
  }

  /** Waits for `n` more valid answers than now (or `ms`, whichever first): proof that traffic flows at this moment. */
  async flowing(n: number, ms = 20_000): Promise<boolean> {
    const want = this.okCount + n;
    const until = Date.now() + ms;
    while (this.okCount < want && Date.now() < until && !this.stopping) await sleep(20);
    return this.okCount >= want;
  }

  /** Lets the requests in flight finish, and the figures. */
  async stop(): Promise<LoadResult> {
    this.stopping = true;
    await Promise.all(this.loops);
    clearTimeout(this.deadline);
    this.agent.destroy();
    const sorted = Float64Array.from(this.latencies).sort();
    const q = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10) / 10 : 0);
    return {
      ...this.counts,
      failures: this.failures,
      seconds: (Date.now() - this.started) / 1000,
      latencyMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const i = this.sent++;
      if (this.opts.ratePerSecond) {
        const wait = this.started + (i * 1000) / this.opts.ratePerSecond - Date.now();
        if (wait > 0) await sleep(wait);
        if (this.stopping) break;
      }
      const t0 = performance.now();
      const why = await this.one(this.opts.request(i));
      if (why === null) {
        this.okCount++;
        this.latencies.push(performance.now() - t0);
      } else {
        this.failedCount++;
        if (this.failures.length < KEPT_FAILURES) this.failures.push({ at: Date.now() - this.started, what: why });
      }
    }
  }

  /** One request: null when answered 200 with a body the check takes, else why not. */
  private one(r: LoadRequest): Promise<string | null> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (why: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(why);
      };
      const req = http.request({ host: '127.0.0.1', port: this.opts.port, method: r.method, path: r.path, headers: r.headers, agent: this.agent });
      const timer = setTimeout(() => {
        done(`no answer in ${this.opts.timeoutMs ?? 30_000} ms`);
        req.destroy();
      }, this.opts.timeoutMs ?? 30_000);
      req.on('error', (e: NodeJS.ErrnoException) => done(`socket error ${e.code ?? e.message}`));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', (e: NodeJS.ErrnoException) => done(`socket error while reading the answer: ${e.code ?? e.message}`));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return done(`${res.statusCode}: ${text.slice(0, 200)}`);
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            return done(`200 with a body that is not JSON: ${text.slice(0, 200)}`);
          }
          done(this.opts.check ? this.opts.check(body) : null);
        });
      });
      req.end(r.body);
    });
  }
}

/** A process's resident memory in MB, from /proc/PID/status (VmRSS); null when the process is gone or this is not Linux. */
export function rssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
