/**
 * For the edge runtime's tests: the endpoint as a child process on a
 * loopback port, calls to it, and signed bundles written here (a folder, or
 * a .tar.gz with the layout buildBundle writes, or with entries a bundle must
 * never hold).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { exportOnnx, onnxSignature, type OnnxSignature } from '../services/onnx/export';
import { tarHeader } from '../services/registry/backup';
import type { Candidate } from '../services/training/automl';
import type { Frame } from '../services/training/frame';
import type { FittedPipeline } from '../services/training/pipeline';

export const SERVER = path.resolve(__dirname, '../../resources/runtime/server.js');

export interface Edge {
  proc: ChildProcess;
  port: number;
  /** Standard output, one JSON object a line. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<number | null>;
  /** Tokens the endpoint generated and printed, by role. */
  generated: Record<string, string>;
}

/** Endpoints started and not yet stopped, killed by `killAll`. */
const running = new Set<Edge>();

export const isRunning = (edge: Edge) => running.has(edge);

export function killAll(): void {
  for (const e of running) e.proc.kill('SIGKILL');
  running.clear();
}

/** Starts the endpoint and resolves when it prints the port it listens on; rejects with its exit code and standard error otherwise. */
export function startEdge(bundle: string, args: string[] = [], env: Record<string, string> = {}): Promise<Edge> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MILLWRIGHT_')));
  const proc = spawn(process.execPath, [SERVER, '--bundle', bundle, '--port', '0', ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let err = '';
  let buf = '';
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const edge: Edge = { proc, port: 0, lines, stderr: () => err, exit, generated: {} };
    const timer = setTimeout(() => reject(new Error(`the endpoint did not start in 20 s: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        lines.push(line);
        const token = line.token as { role: string; value: string } | undefined;
        if (token) edge.generated[token.role] = token.value;
        const listening = line.listening as { port: number } | undefined;
        if (listening) {
          clearTimeout(timer);
          edge.port = listening.port;
          running.add(edge);
          resolve(edge);
        }
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      running.delete(edge);
      reject(Object.assign(new Error(`the endpoint exited with ${code}: ${err}`), { code, stderr: err }));
    });
  });
}

/** SIGTERM and the exit code. */
export async function stopEdge(edge: Edge): Promise<number | null> {
  edge.proc.kill('SIGTERM');
  const code = await edge.exit;
  running.delete(edge);
  return code;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** One request; a Buffer body goes as application/gzip, anything else as JSON. */
export async function callEdge(port: number, method: string, route: string, body: unknown, token: string | null, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (token !== null) h.Authorization = `Bearer ${token}`;
  let payload: string | Uint8Array<ArrayBuffer> | undefined;
  if (Buffer.isBuffer(body)) {
    payload = new Uint8Array(body);
    h['Content-Type'] ??= 'application/gzip';
  } else if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A POST through node:http, for bodies sent in pieces or past the limit. */
export function rawPost(port: number, route: string, headers: Record<string, string | number>, send: (req: http.ClientRequest) => void): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: route, method: 'POST', headers, agent: false });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    // The endpoint may close while the rest of a refused body is still being sent.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    send(req);
  });
}

// ---------------------------------------------------------------- signed bundles

export interface SigningKey {
  privateKey: crypto.KeyObject;
  publicPem: string;
  fingerprint: string;
}

/** A fresh Ed25519 key, as a workspace has. */
export function signingKey(): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `SHA256:${crypto.createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`,
  };
}

export const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Writes a bundle folder as buildBundle lays it out: the files, the signer's
 * public key, manifest.json listing every file's sha256, and manifest.sig.
 * Returns the manifest's bytes.
 */
export function writeSignedBundle(dir: string, manifest: Record<string, unknown>, files: Record<string, Uint8Array>, key: SigningKey): Buffer {
  fs.mkdirSync(dir, { recursive: true });
  const all: Record<string, Uint8Array> = { ...files, 'workspace-key.pub.pem': Buffer.from(key.publicPem) };
  for (const [name, bytes] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
  }
  const listed = Object.fromEntries(Object.keys(all).sort().map((n) => [n, sha256(all[n]!)]));
  const bytes = Buffer.from(`${JSON.stringify({ ...manifest, keyFingerprint: key.fingerprint, files: listed }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'manifest.json'), bytes);
  fs.writeFileSync(path.join(dir, 'manifest.sig'), `${signManifest(bytes, key)}\n`);
  return bytes;
}

export const signManifest = (bytes: Buffer, key: SigningKey) => crypto.sign(null, bytes, key.privateKey).toString('base64');

/** Small learners the edge tests train: quick, and each kind of graph output. */
export const HGB: Candidate = { algorithm: 'hgb', params: { maxIter: 40, learningRate: 0.1, maxLeafNodes: 15, minSamplesLeaf: 10, l2: 0, balanced: false } };
export const LINEAR: Candidate = { algorithm: 'linear', params: { alpha: 1 } };
export const IFOREST: Candidate = { algorithm: 'iforest', params: { trees: 60, sampleSize: 256 } };
export const NO_TIME = { timeColumn: null, windowMinutes: null, lags: [] };

/** A trained pipeline's bundle folder, and an ONNX Runtime session on its graph in this process to compare with. */
export interface ModelBundle {
  dir: string;
  name: string;
  sig: OnnxSignature;
  bytes: Uint8Array;
  session: ort.InferenceSession;
}

/** Writes a pipeline's signed bundle folder (as buildBundle lays it out) to `dir`. */
export async function modelBundle(dir: string, p: FittedPipeline, name: string, version: number, timeColumn: string | null, key: SigningKey): Promise<ModelBundle> {
  const bytes = exportOnnx(p, { modelName: name, modelVersion: version, appVersion: '0.1.0-test' });
  const sig = onnxSignature(p);
  writeSignedBundle(dir, { format: 1, name, version, createdAt: new Date().toISOString(), appVersion: '0.1.0-test', signature: sig, timeColumn }, { 'model.onnx': bytes }, key);
  return { dir, name, sig, bytes, session: await ort.InferenceSession.create(Buffer.from(bytes)) };
}

/** One tar entry: a regular file unless `type` says otherwise ('2' symbolic link, '1' hard link, '5' folder…). */
export interface TarEntry {
  name: string;
  data?: Buffer;
  type?: string;
  link?: string;
}

/** A .tar.gz of the entries, in order, with the headers buildBundle writes. */
export function tarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const h = tarHeader(e.name.length > 100 ? e.name.slice(0, 100) : e.name, data.length, 1_700_000_000);
    if (e.type || e.link) {
      h.write(e.type ?? '0', 156, 1, 'ascii');
      if (e.link) h.write(e.link, 157, 100, 'utf8');
      h.write('        ', 148, 8, 'ascii');
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    }
    parts.push(h, data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(parts));
}

/** The entries of a bundle folder in buildBundle's order: manifest.json, manifest.sig, then the listed files sorted. */
export function bundleEntries(dir: string): TarEntry[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
  return ['manifest.json', 'manifest.sig', ...Object.keys(manifest.files).sort()].map((name) => ({ name, data: fs.readFileSync(path.join(dir, name)) }));
}

// ---------------------------------------------------------------- rows

/** Rows of a frame as /predict objects: null for missing, yes/no as true/false, every third row's numbers as text. */
export function objects(f: Frame, sig: OnnxSignature, from = 0, to = f.rows, extra: (i: number) => Record<string, unknown> = () => ({})): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < to; i++) {
    const o: Record<string, unknown> = {};
    for (const input of sig.inputs) {
      const col = f.columns.get(input.name)!;
      if ('codes' in col) o[input.name] = col.codes[i]! < 0 ? null : col.dictionary[col.codes[i]!];
      else if (col.type === 'boolean') o[input.name] = col.values[i] === 255 ? null : col.values[i] === 1;
      else {
        const v = col.values[i]!;
        o[input.name] = Number.isNaN(v) ? null : i % 3 === 0 ? String(v) : v;
      }
    }
    out.push({ ...o, ...extra(i) });
  }
  return out;
}
