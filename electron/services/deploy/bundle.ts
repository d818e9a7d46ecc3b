import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { AppError } from '../../../shared/errors';
import { tarHeader } from '../registry/backup';
import { modelOnnx } from '../scoring/onnx-store';
import type { ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { keepProfile } from '../monitor/profiles';
import { trainingProfile, type TrainingProfile } from './profile';

/**
 * A deployment bundle (DESIGN.md section 9): one .tar.gz with manifest.json,
 * manifest.sig (Ed25519, the workspace key), model.onnx, the edge runtime and
 * the files operations needs to run it. The same model version gives the same
 * bytes: entries in a fixed order, the version's own time on every entry, and
 * Ed25519 signatures are deterministic.
 */

const KEY_FILE = 'workspace-ed25519.pem';
const PUB_FILE = 'workspace-ed25519.pub.pem';
/**
 * The runtime's own files, relative to resources/runtime/: package.json and
 * every .js file (the lint config and anything installed stay out), sorted.
 */
export function runtimeFiles(runtimeDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(runtimeDir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(name);
      } else if (e.isFile() && (name === 'package.json' || (e.name.endsWith('.js') && !e.name.endsWith('.test.js')))) out.push(name);
    }
  };
  walk('');
  return out.sort();
}

/** The workspace's signing key, made on first use and kept in keys/ (the public half beside it). */
export function workspaceKey(ws: Workspace): { privateKey: crypto.KeyObject; publicPem: string; fingerprint: string } {
  const dir = path.join(ws.dir, 'keys');
  const keyFile = path.join(dir, KEY_FILE);
  const pubFile = path.join(dir, PUB_FILE);
  if (!fs.existsSync(keyFile)) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
    ws.audit.record('workspace.key', { fingerprint: fingerprintOf(fs.readFileSync(pubFile, 'utf8')) });
  }
  const publicPem = fs.readFileSync(pubFile, 'utf8');
  return { privateKey: crypto.createPrivateKey(fs.readFileSync(keyFile)), publicPem, fingerprint: fingerprintOf(publicPem) };
}

export function fingerprintOf(publicPem: string): string {
  const der = crypto.createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
  return `SHA256:${crypto.createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'model';
}

function templates(v: ModelVersionRecord, fingerprint: string, profile: TrainingProfile): Record<string, string> {
  const app = slug(v.model);
  // A row to call it with: each input at a typical training value (the middle decile edge, the most frequent category).
  const example = Object.fromEntries(profile.inputs.map((i) => [i.name, i.kind === 'numeric' ? (i.edges[Math.floor(i.edges.length / 2)] ?? 0) : (i.categories[0] ?? null)]));
  return {
    Dockerfile: [
      '# The endpoint of one model version: Node and onnxruntime-node, nothing else.',
      'FROM node:20-bookworm-slim',
      'WORKDIR /bundle',
      'COPY . /bundle',
      'RUN cd runtime && npm install --omit=dev --no-audit --no-fund',
      'ENV MILLWRIGHT_HOST=0.0.0.0 MILLWRIGHT_PORT=8080 MILLWRIGHT_STATE=/state',
      'EXPOSE 8080',
      'VOLUME /state',
      'CMD ["node", "runtime/server.js", "--bundle", "/bundle"]',
      '',
    ].join('\n'),
    'k8s.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      `metadata: { name: ${app}, labels: { app: ${app} } }`,
      'spec:',
      '  replicas: 1',
      `  selector: { matchLabels: { app: ${app} } }`,
      '  template:',
      `    metadata: { labels: { app: ${app} } }`,
      '    spec:',
      '      containers:',
      `        - name: ${app}`,
      `          image: ${app}:${v.version}`,
      '          ports: [{ containerPort: 8080 }]',
      '          env:',
      `            - { name: MILLWRIGHT_TOKEN, valueFrom: { secretKeyRef: { name: ${app}-tokens, key: token } } }`,
      `            - { name: MILLWRIGHT_ADMIN_TOKEN, valueFrom: { secretKeyRef: { name: ${app}-tokens, key: admin-token } } }`,
      '          readinessProbe: { httpGet: { path: /v2/health/ready, port: 8080 } }',
      '          livenessProbe: { httpGet: { path: /v2/health/live, port: 8080 } }',
      '---',
      'apiVersion: v1',
      'kind: Service',
      `metadata: { name: ${app} }`,
      'spec:',
      `  selector: { app: ${app} }`,
      '  ports: [{ port: 80, targetPort: 8080 }]',
      '',
    ].join('\n'),
    'millwright-edge.service': [
      '[Unit]',
      `Description=Millwright edge endpoint: ${v.model} version ${v.version}`,
      'After=network-online.target',
      '',
      '[Service]',
      'WorkingDirectory=/opt/millwright-edge',
      'EnvironmentFile=-/etc/millwright-edge.env',
      'ExecStart=/usr/bin/node runtime/server.js --bundle /opt/millwright-edge --state /var/lib/millwright-edge',
      'Restart=on-failure',
      'DynamicUser=yes',
      'StateDirectory=millwright-edge',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
    'README.txt': [
      `Millwright edge endpoint: model "${v.model}" version ${v.version}`,
      `Trained on ${v.dataset}@${v.datasetVersion} with Millwright ${v.appVersion}.`,
      '',
      'Check the bundle was made by your Millwright workspace:',
      `  its public key (workspace-key.pub.pem) has the fingerprint ${fingerprint}`,
      '  openssl pkeyutl -verify -pubin -inkey workspace-key.pub.pem -rawin -in manifest.json -sigfile manifest.sig.bin',
      '  (manifest.sig is base64: base64 -d manifest.sig > manifest.sig.bin)',
      '',
      'Run it on this machine (Node 20 or newer):',
      '  cd runtime && npm install --omit=dev && cd ..',
      '  export MILLWRIGHT_TOKEN=...        # the token callers send (16 characters or more)',
      '  export MILLWRIGHT_ADMIN_TOKEN=...  # another one, for Millwright to push new versions and roll back',
      '  node runtime/server.js --bundle . --port 8080 --key workspace-key.pub.pem',
      '  (a token not given is generated, printed once, and kept as a digest in the state folder;',
      '   --key pins the workspace key: every bundle pushed later must be signed by it)',
      '',
      'Check it:',
      '  curl http://127.0.0.1:8080/v2/health/ready',
      '  curl -H "Authorization: Bearer $MILLWRIGHT_ADMIN_TOKEN" http://127.0.0.1:8080/admin/status',
      '',
      'Call it:',
      `  curl -H "Authorization: Bearer $MILLWRIGHT_TOKEN" -H "Content-Type: application/json" -d '${JSON.stringify(example).replace(/'/g, "'\\''")}' http://127.0.0.1:8080/predict`,
      '',
      'Live data over MQTT (optional): add --mqtt mqtt://BROKER:1883 (or mqtts://BROKER:8883 with --mqtt-ca FILE).',
      '  Each message on the in-topic is a /predict body; each answer goes to the out-topic, anomalies also to',
      '  OUT/anomaly and unusable messages to OUT/errors. The endpoint prints its topics when it starts; choose',
      '  them with --mqtt-in TOPIC and --mqtt-out TOPIC, and log in with --mqtt-username U --mqtt-password P.',
      '  node runtime/server.js --help lists every option (body limit, state folder, --engine main for 1-2 core machines).',
      '',
      'New versions and rollback, from the Millwright app or its command line:',
      '  millwright endpoints add NAME --url http://THIS-HOST:8080 --token $MILLWRIGHT_TOKEN --admin-token $MILLWRIGHT_ADMIN_TOKEN',
      `  millwright deploy ${v.model}@VERSION --endpoint NAME`,
      '  millwright rollback --endpoint NAME',
      '  or here: curl -X POST -H "Authorization: Bearer $MILLWRIGHT_ADMIN_TOKEN" http://127.0.0.1:8080/admin/rollback',
      '',
      'As a container:   docker build -t ' + app + ':' + v.version + ' .   then  docker run -p 8080:8080 ' + app + ':' + v.version,
      'On Kubernetes:    kubectl apply -f k8s.yaml  (after creating the secret ' + app + '-tokens)',
      'As a service:     copy this folder to /opt/millwright-edge and the unit file to /etc/systemd/system/',
      '',
    ].join('\n'),
  };
}

export interface BuiltBundle {
  file: string;
  bytes: number;
  /** Of the .tar.gz file. */
  sha256: string;
  /** Of manifest.json: what an endpoint reports as its bundleSha256. */
  manifestSha256: string;
  files: string[];
  fingerprint: string;
}

/**
 * Writes the bundle of a model version to `out` (.tar.gz). The manifest
 * carries the training profile the endpoint's monitoring counts against.
 */
export async function buildBundle(ws: Workspace, v: ModelVersionRecord, out: string, runtimeDir: string, opts: { audit?: boolean; profile?: TrainingProfile } = {}): Promise<BuiltBundle> {
  const file = path.resolve(out);
  if (!fs.existsSync(path.dirname(file))) throw new AppError('bad_input', `Cannot write ${file}: the folder ${path.dirname(file)} does not exist.`, 'out');
  const profile = opts.profile ?? (await trainingProfile(ws, v));
  keepProfile(ws, v, profile);
  const key = workspaceKey(ws);
  const stored = modelOnnx(ws, v);
  const entries = new Map<string, Buffer>();
  entries.set('model.onnx', stored.bytes);
  for (const f of runtimeFiles(runtimeDir)) entries.set(`runtime/${f}`, fs.readFileSync(path.join(runtimeDir, f)));
  for (const [name, text] of Object.entries(templates(v, key.fingerprint, profile))) entries.set(name, Buffer.from(text));
  entries.set('workspace-key.pub.pem', Buffer.from(key.publicPem));
  const sig = stored.signature;
  const manifest = {
    format: 1,
    name: v.model,
    version: v.version,
    createdAt: v.createdAt,
    appVersion: v.appVersion,
    trainedOn: `${v.dataset}@${v.datasetVersion}`,
    metric: { key: v.metric.key, label: v.metric.label, value: v.metrics[v.metric.key] ?? null },
    modelHash: v.modelHash,
    signature: sig,
    timeColumn: sig.historyRows > 0 ? v.settings.timeColumn : null,
    keyFingerprint: key.fingerprint,
    profile,
    files: Object.fromEntries([...entries.keys()].sort().map((n) => [n, sha256(entries.get(n)!)])),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const signature = crypto.sign(null, manifestBytes, key.privateKey).toString('base64') + '\n';
  const all: [string, Buffer][] = [['manifest.json', manifestBytes], ['manifest.sig', Buffer.from(signature)], ...[...entries.keys()].sort().map((n) => [n, entries.get(n)!] as [string, Buffer])];
  const mtime = Math.floor(Date.parse(v.createdAt) / 1000);
  const parts: Buffer[] = [];
  for (const [name, data] of all) {
    parts.push(tarHeader(name, data.length, mtime), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  const gz = zlib.gzipSync(Buffer.concat(parts), { level: 9 });
  const tmp = `${file}.part-${process.pid}`;
  try {
    fs.writeFileSync(tmp, gz);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new AppError('bad_input', `Cannot write ${file}: ${(e as Error).message}.`, 'out');
  }
  if (opts.audit !== false) ws.audit.record('model.bundle', { model: v.model, version: v.version, file, sha256: sha256(gz) });
  return { file, bytes: gz.length, sha256: sha256(gz), manifestSha256: sha256(manifestBytes), files: all.map(([n]) => n), fingerprint: key.fingerprint };
}

/** Checks a manifest's Ed25519 signature with a public key (PEM). */
export function verifyManifest(manifest: Buffer, signatureBase64: string, publicPem: string): boolean {
  return crypto.verify(null, manifest, crypto.createPublicKey(publicPem), Buffer.from(signatureBase64.trim(), 'base64'));
}

/** manifest.json and manifest.sig read back from a bundle's .tar.gz (its first two entries). */
export function readManifest(gz: Buffer): { manifest: Buffer; signature: string } {
  let tar: Buffer;
  try {
    tar = zlib.gunzipSync(gz);
  } catch (e) {
    throw new AppError('bad_input', `The bundle is not a .tar.gz file: it cannot be decompressed (${(e as Error).message}).`);
  }
  const found = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && found.size < 2; ) {
    const name = tar.toString('utf8', at, at + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.toString('ascii', at + 124, at + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    // A negative or unreadable size would step back (or nowhere) for ever.
    if (!(size >= 0)) throw new AppError('bad_input', `The bundle is damaged: the entry at byte ${at} has no readable size.`);
    if (name === 'manifest.json' || name === 'manifest.sig') found.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  const manifest = found.get('manifest.json'), sig = found.get('manifest.sig');
  if (!manifest || !sig) throw new AppError('bad_input', 'The bundle has no manifest.json or manifest.sig.');
  return { manifest, signature: sig.toString('utf8') };
}
