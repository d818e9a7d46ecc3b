/**
 * Issue 11, the bundle readers: the edge runtime's check of an uploaded
 * .tar.gz (resources/runtime/lib/bundle.js and tar.js: unpack, manifest,
 * Ed25519 signature against the pinned key, every file's sha256) and the
 * app's read-back of a bundle (electron/services/deploy/bundle.ts
 * readManifest/verifyManifest). Random bytes, damaged gzip, tar headers with
 * garbage (checksums fixed, so the checks behind them are reached),
 * manifests changed and signed again, or changed and not signed, and
 * signatures changed: each is refused with a reason or, when nothing that
 * counts changed, accepted with exactly the files that were signed. Never a
 * crash, never a hang. (Path tricks in entry names are the endpoint-abuse
 * tests'.)
 *
 * Figures: test-results/reliability/fuzz-bundle.json.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tarHeader } from '../services/registry/backup';
import { assertReadableRefusal, fuzzSuite, LIMIT_MS, property, runs, type Outcome } from './support/fuzz';

const { figures, call } = fuzzSuite('fuzz-bundle');

const MAX_UNPACKED = 1 << 20;
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

interface Key {
  privateKey: crypto.KeyObject;
  pem: string;
}

function newKey(): Key {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const key = newKey();
const otherKey = newKey();

/** The files a bundle carries besides its manifest, as buildBundle lays them out. */
const FILES: Record<string, Buffer> = {
  'model.onnx': crypto.randomBytes(3000),
  'runtime/server.js': Buffer.from("'use strict';\nrequire('./lib/app');\n"),
  'runtime/package.json': Buffer.from('{"name":"millwright-edge"}\n'),
  'workspace-key.pub.pem': Buffer.from(key.pem),
  'README.txt': Buffer.from('Millwright edge endpoint\n'),
};

function manifestOf(files: Record<string, Buffer> = FILES): Record<string, unknown> {
  return {
    format: 1,
    name: 'pump-trip',
    version: 3,
    createdAt: '2024-03-01T12:00:00.000Z',
    appVersion: '0.1.0',
    trainedOn: 'pumps@1',
    signature: {
      inputs: [
        { name: 'Flow', type: 'float32', kind: 'number', unit: 'm3/h' },
        { name: 'Line', type: 'string', levels: ['A', 'B'] },
      ],
      outputs: [
        { name: 'label', type: 'string', shape: ['N'] },
        { name: 'probabilities', type: 'float32', shape: ['N', 2] },
      ],
      task: 'binary',
      classes: ['ok', 'trip'],
      threshold: 0.5,
      target: 'Trip',
      historyRows: 0,
    },
    timeColumn: null,
    files: Object.fromEntries(Object.keys(files).sort().map((n) => [n, sha256(files[n]!)])),
  };
}

const sign = (bytes: Buffer, k: Key = key) => `${crypto.sign(null, bytes, k.privateKey).toString('base64')}\n`;

function tarOf(entries: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of entries) {
    parts.push(tarHeader(name, data.length, 1_700_000_000), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A bundle's tar: manifest.json, manifest.sig, then the files sorted. */
function bundleTar(manifestBytes: Buffer, sig: string | Buffer, files: Record<string, Buffer> = FILES): Buffer {
  return tarOf([['manifest.json', manifestBytes], ['manifest.sig', Buffer.isBuffer(sig) ? sig : Buffer.from(sig)], ...Object.keys(files).sort().map((n): [string, Buffer] => [n, files[n]!])]);
}

const MANIFEST = Buffer.from(`${JSON.stringify(manifestOf(), null, 2)}\n`);
const GOOD_TAR = bundleTar(MANIFEST, sign(MANIFEST));
const GOOD_GZ = zlib.gzipSync(GOOD_TAR);

/** Fixes a 512-byte tar header's checksum after an edit, so the reader looks past it. */
function fixChecksum(tar: Buffer, at: number): void {
  const h = tar.subarray(at, at + 512);
  h.write('        ', 148, 8, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
}

/** Offsets of the headers in a tar made by tarOf. */
function headerOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    out.push(at);
    const size = parseInt(tar.toString('ascii', at + 124, at + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

type RuntimeResult = { name: string; sha256: string; files: string[] };
type AppResult = { verifies: boolean; manifestBytes: number };

/**
 * The edge runtime and the app on the same bytes: each refuses with a
 * reason, or accepts exactly the signed bundle (`signed`: the manifest
 * bytes a valid acceptance must carry, when known).
 */
async function checkBoth(gz: Buffer, what: string, signed: Buffer | null = MANIFEST): Promise<{ runtime: Outcome<RuntimeResult>; app: Outcome<AppResult> }> {
  const runtime = await call<RuntimeResult>('bundle.runtime', { gz, maxUnpacked: MAX_UNPACKED, pem: key.pem });
  expect(runtime.ms, `the runtime took ${Math.round(runtime.ms)} ms on ${what}`).toBeLessThan(LIMIT_MS);
  if (!runtime.ok) assertReadableRefusal(runtime.error, `the runtime on ${what}`, { bundle: true });
  else if (signed) expect(runtime.value.sha256, `the runtime accepted ${what}: it must be the signed manifest`).toBe(sha256(signed));
  const app = await call<AppResult>('bundle.app', { gz, pem: key.pem });
  expect(app.ms, `the app took ${Math.round(app.ms)} ms on ${what}`).toBeLessThan(LIMIT_MS);
  if (!app.ok) assertReadableRefusal(app.error, `the app on ${what}`);
  // Whatever the app reads back, it only says "verifies" for a manifest signed by the key.
  if (app.ok && app.value.verifies && runtime.ok) expect(runtime.value.sha256).toBe(sha256(signed ?? MANIFEST));
  return { runtime, app };
}

describe('a good bundle', () => {
  it('is accepted by both, with every file', async () => {
    const { runtime, app } = await checkBoth(GOOD_GZ, 'the good bundle');
    expect(runtime.ok && runtime.value.files.sort()).toEqual(['manifest.json', 'manifest.sig', ...Object.keys(FILES)].sort());
    expect(app.ok && app.value.verifies).toBe(true);
    figures.count('bundle good', 1);
  });
});

describe('damaged archives are refused with a reason', () => {
  it('random bytes, and gzip streams with bytes flipped, cut or added', async () => {
    await property(
      figures,
      'bundle damaged gzip',
      fc.oneof(
        fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)),
        fc.tuple(fc.nat(), fc.nat(255), fc.nat(3)).map(([at, byte, op]) => {
          const b = Buffer.from(GOOD_GZ);
          const i = at % b.length;
          if (op === 0) b[i] = b[i]! ^ (byte || 1);
          else if (op === 1) return b.subarray(0, i);
          else if (op === 2) return Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
          else return Buffer.concat([b, Buffer.from([byte])]);
          return b;
        }),
        // A bomb: zeros that inflate past the limit.
        fc.integer({ min: MAX_UNPACKED + 1, max: 4 * MAX_UNPACKED }).map((n) => zlib.gzipSync(Buffer.alloc(n))),
        // Not gzip at all: the tar itself, or nothing.
        fc.constantFrom(GOOD_TAR, Buffer.alloc(0), Buffer.from('manifest.json')),
      ),
      async (gz) => {
        const { runtime } = await checkBoth(gz, 'damaged gzip');
        // A flipped bit that still inflates (gzip's trailer checks every byte) cannot change what was signed.
        if (runtime.ok) expect(runtime.value.sha256).toBe(sha256(MANIFEST));
      },
      runs(300),
    );
  }, 600_000);

  it('tar headers with garbage in any field (checksum fixed or not), cut archives, data changed', async () => {
    const offsets = headerOffsets(GOOD_TAR);
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)),
      fc.constantFrom('-1750', '-1', '77777777777', '0x10', '  12 ', '\0\0\0', '9999999', 'NaN', '1e3', '00000001000', '2', '5', 'x', 'L', 'K', '\u00ff\u00ff').map((s) => Buffer.from(s, 'latin1')),
    );
    await property(
      figures,
      'bundle damaged tar',
      fc.record({
        header: fc.constantFrom(...offsets),
        // name, mode, size, mtime, checksum, type flag, magic, prefix, or anywhere.
        field: fc.constantFrom(0, 100, 124, 124, 136, 148, 156, 257, 345, -1),
        at: fc.nat(511),
        bytes: garbage,
        fix: fc.boolean(),
        tail: fc.oneof(fc.constant(null), fc.nat(GOOD_TAR.length)),
        dataFlip: fc.option(fc.nat(GOOD_TAR.length - 1)),
      }),
      async ({ header, field, at, bytes, fix, tail, dataFlip }) => {
        let tar = Buffer.from(GOOD_TAR);
        bytes.copy(tar, header + (field < 0 ? at : field), 0, Math.min(bytes.length, 512 - (field < 0 ? at : field)));
        if (fix) fixChecksum(tar, header);
        if (dataFlip !== null && !offsets.some((o) => dataFlip >= o && dataFlip < o + 512)) tar[dataFlip] = tar[dataFlip]! ^ 0x20;
        if (tail !== null) tar = tar.subarray(0, tail);
        const { runtime } = await checkBoth(zlib.gzipSync(tar), 'a damaged tar');
        if (runtime.ok) expect(runtime.value.files.sort()).toEqual(['manifest.json', 'manifest.sig', ...Object.keys(FILES)].sort());
      },
      runs(500),
      // A negative size: the app's manifest reader stepped back to the same header for ever.
      [{ header: 0, field: 124, at: 0, bytes: Buffer.from('-1750\0\0\0\0\0\0\0', 'latin1'), fix: true, tail: null, dataFlip: null }],
    );
  }, 600_000);

  it('entries added, dropped, doubled or reordered', async () => {
    const entries: [string, Buffer][] = [['manifest.json', MANIFEST], ['manifest.sig', Buffer.from(sign(MANIFEST))], ...Object.keys(FILES).sort().map((n): [string, Buffer] => [n, FILES[n]!])];
    await property(
      figures,
      'bundle entries',
      fc.record({
        order: fc.shuffledSubarray(entries.map((_, i) => i), { minLength: 0 }),
        extra: fc.array(fc.tuple(fc.constantFrom('extra.txt', 'model.onnx', 'manifest.json', 'runtime/lib/x.js', 'README.txt'), fc.uint8Array({ maxLength: 600 })), { maxLength: 2 }),
        dirs: fc.boolean(),
      }),
      async ({ order, extra, dirs }) => {
        const list: [string, Buffer][] = order.map((i) => entries[i]!);
        for (const [n, b] of extra) list.splice(list.length ? n.length % list.length : 0, 0, [n, Buffer.from(b)]);
        let tar = tarOf(list);
        if (dirs) {
          // A folder entry ("runtime/") before everything, as `tar -czf x .` writes one.
          const d = tarHeader('runtime/', 0, 1_700_000_000);
          d.write('5', 156, 1, 'ascii');
          tar = Buffer.concat([d, tar]);
          fixChecksum(tar, 0);
        }
        const complete = order.length === entries.length && extra.length === 0;
        const { runtime } = await checkBoth(zlib.gzipSync(tar), 'changed entries');
        if (complete) expect(runtime.ok, runtime.ok ? '' : runtime.error.message).toBe(true);
        else if (runtime.ok) throw new Error(`a bundle with entries ${list.map(([n]) => n).join(', ')} was accepted`);
      },
      runs(200),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- the manifest and its signature

/** A JSON value to put in a manifest field. */
const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', 0, -1, 1.5, 2, '1', [], {}, 'float64', ['N'], { name: '' }, 'model.onnx', '../x', 'a'.repeat(5000)),
  fc.integer({ min: 1, max: 40 }).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d)) as unknown),
);

/** Every path to a value in a JSON object. */
function paths(v: unknown, at: string[] = []): string[][] {
  const out = at.length ? [at] : [];
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function edit(v: unknown, p: string[], op: 'set' | 'delete' | 'add', value: unknown): unknown {
  if (p.length === 0) return op === 'set' ? value : v;
  const [head, ...rest] = p;
  const copy: Record<string, unknown> = Array.isArray(v) ? ([...v] as unknown as Record<string, unknown>) : { ...(v as Record<string, unknown>) };
  if (rest.length === 0) {
    if (op === 'delete') delete copy[head!];
    else if (op === 'add') copy[`${head}x`] = value;
    else copy[head!] = value;
  } else copy[head!] = edit(copy[head!], rest, op, value);
  return copy;
}

describe('manifests', () => {
  const all = paths(manifestOf());

  it('changed and signed again: each check of the manifest refuses it with a reason, or it is a bundle the runtime can take', async () => {
    await property(
      figures,
      'bundle manifest signed',
      fc.record({ edits: fc.array(fc.tuple(fc.constantFrom(...all), fc.constantFrom<'set' | 'delete' | 'add'>('set', 'set', 'delete', 'add'), jsonish), { minLength: 1, maxLength: 3 }), pretty: fc.boolean() }),
      async ({ edits, pretty }) => {
        let m: unknown = manifestOf();
        for (const [p, op, value] of edits) m = edit(m, p, op, value);
        const bytes = Buffer.from(pretty ? `${JSON.stringify(m, null, 2)}\n` : JSON.stringify(m) ?? 'null');
        await checkBoth(zlib.gzipSync(bundleTar(bytes, sign(bytes))), 'a re-signed manifest', bytes);
      },
      runs(500),
    );
  }, 600_000);

  it('changed and not signed again: always refused', async () => {
    await property(
      figures,
      'bundle manifest unsigned',
      fc.tuple(fc.constantFrom(...all), fc.constantFrom<'set' | 'delete' | 'add'>('set', 'delete', 'add'), jsonish),
      async ([p, op, value]) => {
        const m = edit(manifestOf(), p, op, value);
        const bytes = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
        if (bytes.equals(MANIFEST)) return;
        const { runtime, app } = await checkBoth(zlib.gzipSync(bundleTar(bytes, sign(MANIFEST))), 'a changed manifest', null);
        expect(runtime.ok, 'the runtime took a manifest changed after signing').toBe(false);
        if (app.ok) expect(app.value.verifies, 'the app verified a manifest changed after signing').toBe(false);
      },
      runs(300),
    );
  }, 600_000);

  it('signatures changed, cut, padded, of another key, or not base64: refused; the same signature with blanks around it: accepted', async () => {
    const good = sign(MANIFEST).trim();
    await property(
      figures,
      'bundle signature',
      fc.oneof(
        fc.tuple(fc.nat(good.length - 1), fc.constantFrom('A', 'B', '/', '+', '=', '*', ' ', '')).map(([i, c]) => ({ sig: good.slice(0, i) + c + good.slice(i + 1), same: false })),
        fc.nat(good.length - 1).map((n) => ({ sig: good.slice(0, n), same: false })),
        fc.constantFrom(' ', '\n', '\r\n', '\t', '  \n\n').map((w) => ({ sig: `${w}${good}${w}`, same: true })),
        fc.constant({ sig: sign(MANIFEST, otherKey), same: false }),
        fc.string({ maxLength: 120 }).map((sig) => ({ sig, same: false })),
        fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => ({ sig: Buffer.from(b).toString('base64'), same: false })),
        fc.constantFrom(`${good}${good}`, `${good}==`, Buffer.from(good).toString('base64')).map((sig) => ({ sig, same: false })),
        // Without its padding it is still the same 64 bytes.
        fc.constant({ sig: good.replace(/=+$/, ''), same: true }),
      ),
      async ({ sig, same }) => {
        const goodBytes = Buffer.from(good, 'base64');
        // Base64 leaves the low bits of the last character unused: a different text can carry the same signature bytes.
        const sameBytes = Buffer.from(sig.trim(), 'base64').equals(goodBytes);
        const { runtime, app } = await checkBoth(zlib.gzipSync(bundleTar(MANIFEST, sig)), `the signature ${JSON.stringify(sig.slice(0, 40))}`);
        if (same) expect(runtime.ok, runtime.ok ? '' : runtime.error.message).toBe(true);
        if (runtime.ok) expect(sameBytes, `the runtime accepted the signature ${JSON.stringify(sig)}`).toBe(true);
        if (app.ok && app.value.verifies) expect(sameBytes, `the app verified the signature ${JSON.stringify(sig)}`).toBe(true);
      },
      runs(300),
    );
  }, 600_000);
});
