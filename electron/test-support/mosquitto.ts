/**
 * Debian's Mosquitto on loopback for tests and e2e specs: a plain listener on
 * a free port, optionally user names with passwords (anonymous refused), a TLS
 * listener with a CA and server certificate made here, and a WebSocket
 * listener. It restarts on the same ports, and dies with the process that
 * started it (a shell between them kills it when our end of its stdin closes,
 * even if this process is SIGKILLed).
 *
 * Standalone, for e2e specs:
 *   npx tsx electron/test-support/mosquitto.ts --port N [--user NAME:PASS] [--tls] [--publish]
 * prints one JSON line ({"url": "mqtt://127.0.0.1:N", ...}) once the broker
 * listens, and runs until killed. --publish sends a simulated pump reading as
 * JSON on plant/pump1 every 200 ms. SIGTERM/SIGINT stop the broker and
 * remove its folder; `npm exec`/`npx` does not pass SIGTERM on, so a spec
 * should run node_modules/.bin/tsx itself or signal the whole process group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { freePort } from './free-port';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const HAVE_MOSQUITTO = fs.existsSync(MOSQUITTO);

export interface MosquittoOptions {
  /** The plain listener's port (a free one when absent). */
  port?: number;
  /** User names and passwords; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Adds a TLS listener with a certificate signed by a CA made here. */
  tls?: {
    port?: number;
    /** Names the server certificate is for (default localhost and 127.0.0.1). */
    names?: string[];
    /** Refuse clients without a certificate signed by the CA (one is made in clientCertFile/clientKeyFile). */
    requireClientCert?: boolean;
  };
  /** Adds a WebSocket listener. */
  websockets?: { port?: number };
  /** Where config, passwords and certificates go (a temporary folder when absent). */
  dir?: string;
}

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** A client certificate and key signed by the CA. */
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
}

/** A CA, a server certificate for `names` and a client certificate (EC P-256, valid two days) in `dir`. */
export function makeCertificates(dir: string, names: string[] = ['localhost', '127.0.0.1']): TlsFiles {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Millwright test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  fs.writeFileSync(path.join(dir, 'server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, cn] of [
    ['server', names[0] ?? 'localhost'],
    ['client', 'millwright-test-client'],
  ] as const) {
    openssl(['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`], dir);
  }
  const f = (n: string) => path.join(dir, n);
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'), clientCertFile: f('client.pem'), clientKeyFile: f('client.key') };
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export class Mosquitto {
  private proc: ChildProcess | null = null;
  /** What the broker wrote to stderr, for failure messages. */
  log = '';

  private constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
    readonly port: number,
    readonly tlsPort: number | null,
    readonly wsPort: number | null,
    readonly tls: TlsFiles | null,
    private readonly conf: string,
  ) {}

  /** Writes the configuration and starts the broker; resolves once every listener accepts connections. */
  static async start(opts: MosquittoOptions = {}): Promise<Mosquitto> {
    if (!HAVE_MOSQUITTO) throw new Error(`${MOSQUITTO} is not installed (apt-get install mosquitto).`);
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-mosquitto-'));
    fs.mkdirSync(dir, { recursive: true });
    const port = opts.port ?? (await freePort());
    const tlsPort = opts.tls ? (opts.tls.port ?? (await freePort())) : null;
    const wsPort = opts.websockets ? (opts.websockets.port ?? (await freePort())) : null;
    const lines = ['per_listener_settings false', `user ${os.userInfo().username}`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
    if (opts.users) {
      const pw = path.join(dir, 'passwords');
      fs.writeFileSync(pw, '');
      for (const [user, pass] of Object.entries(opts.users)) {
        const r = spawnSync(MOSQUITTO_PASSWD, ['-b', pw, user, pass], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr || r.error?.message}`);
      }
      lines.push('allow_anonymous false', `password_file ${pw}`);
    } else {
      lines.push('allow_anonymous true');
    }
    lines.push(`listener ${port} 127.0.0.1`);
    let tls: TlsFiles | null = null;
    if (opts.tls && tlsPort) {
      tls = makeCertificates(path.join(dir, 'tls'), opts.tls.names);
      lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`);
      if (opts.tls.requireClientCert) lines.push('require_certificate true');
    }
    if (wsPort) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets');
    const conf = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(conf, lines.join('\n') + '\n');
    const broker = new Mosquitto(dir, opts.dir === undefined, port, tlsPort, wsPort, tls, conf);
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  /** mqtts://localhost:PORT (the certificate names localhost). */
  get tlsUrl(): string {
    if (!this.tlsPort) throw new Error('this broker has no TLS listener');
    return `mqtts://localhost:${this.tlsPort}`;
  }
  get wsUrl(): string {
    if (!this.wsPort) throw new Error('this broker has no WebSocket listener');
    return `ws://127.0.0.1:${this.wsPort}`;
  }
  get running(): boolean {
    return this.proc !== null;
  }

  /** Starts the broker (again) on the same ports; resolves once it listens. */
  async restart(): Promise<void> {
    if (this.proc) return;
    // The shell kills mosquitto as soon as its stdin closes (kill() closes it; so does this process dying),
    // and exits when mosquitto does.
    const script = `exec 3<&0; "${MOSQUITTO}" -c "$1" </dev/null & m=$!; (read _ <&3; kill -9 $m 2>/dev/null) & w=$!; wait $m; s=$?; kill $w 2>/dev/null; exit $s`;
    const proc = spawn('sh', ['-c', script, 'sh', this.conf], { stdio: ['pipe', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc = proc;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const ports = [this.port, this.tlsPort, this.wsPort].filter((p): p is number => p !== null);
    const end = Date.now() + 10_000;
    for (;;) {
      const up = await Promise.all(ports.map(listening));
      if (up.every(Boolean)) return;
      const dead = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 25))]);
      if (dead || Date.now() > end) {
        await this.kill();
        throw new Error(`mosquitto did not start on port ${this.port}: ${this.log.trim() || (dead ? 'it exited' : 'timed out')}`);
      }
    }
  }

  /** Kills the broker at once (SIGKILL: clients see the connection drop, no goodbye). */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.stdin!.end();
    await gone;
  }

  /** Kills the broker and removes the folder it was given when it made one. */
  async close(): Promise<void> {
    await this.kill();
    if (this.ownDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A simulated pump reading, different every call (`i` counts calls). */
export function pumpReading(i: number): { temperature: number; pressure: number; running: boolean; motor: { current: number } } {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    temperature: r(60 + 5 * Math.sin(i / 10)),
    pressure: r(3 + 0.2 * Math.cos(i / 7)),
    running: true,
    motor: { current: r(12 + Math.sin(i / 5)) },
  };
}

/** Publishes pumpReading() as JSON on `topic` every `everyMs` until stopped. */
export async function startPublisher(url: string, opts: { topic?: string; everyMs?: number; username?: string; password?: string } = {}): Promise<{ client: MqttClient; stop: () => Promise<void> }> {
  const client = connect(url, { clientId: `millwright-sim-${process.pid}`, reconnectPeriod: 500, username: opts.username, password: opts.password, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  let i = 0;
  const timer = setInterval(() => {
    if (client.connected) client.publish(opts.topic ?? 'plant/pump1', JSON.stringify(pumpReading(i++)), { qos: 0 });
  }, opts.everyMs ?? 200);
  return {
    client,
    stop: async () => {
      clearInterval(timer);
      await client.endAsync(true);
    },
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const port = argValue(args, '--port');
  const user = argValue(args, '--user');
  const users: Record<string, string> | undefined = user ? { [user.split(':')[0]!]: user.split(':').slice(1).join(':') } : undefined;
  const broker = await Mosquitto.start({ port: port ? Number(port) : undefined, users, tls: args.includes('--tls') ? {} : undefined });
  const [username, password] = user ? [Object.keys(users!)[0], Object.values(users!)[0]] : [undefined, undefined];
  const publisher = args.includes('--publish') ? await startPublisher(broker.url, { username, password }) : null;
  process.stdout.write(
    JSON.stringify({ url: broker.url, port: broker.port, ...(broker.tls ? { tlsUrl: broker.tlsUrl, caFile: broker.tls.caFile } : {}), ...(publisher ? { publishing: 'plant/pump1' } : {}) }) + '\n',
  );
  const bye = () => {
    void (async () => {
      await publisher?.stop().catch(() => undefined);
      await broker.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
