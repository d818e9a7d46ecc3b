'use strict';
/**
 * Checking a bundle before it is served: manifest.json, its Ed25519
 * signature (manifest.sig) against the workspace key pinned at install, and
 * the sha256 of every file it lists; and installing it into the state folder.
 * The bytes that are hashed are the bytes that are loaded, so a file changed
 * between the check and the load is caught.
 */
const { createHash, createPublicKey, randomBytes, verify } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { readTarGz, TarError } = require('./tar');
const { bytesText } = require('./http');
const { writeAtomic } = require('./state');

const MODEL_FILE = 'model.onnx';
const MANIFEST = 'manifest.json';
const SIGNATURE = 'manifest.sig';
const PUBLIC_KEY = 'workspace-key.pub.pem';
const PINNED_KEY_FILE = 'pinned-key.pem';

/** A bundle that must not be served, with the reason in words an operator can act on. */
class BundleError extends Error {}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * @typedef {{ name: string, type: 'float32' | 'string', kind?: string, unit?: string | null, levels?: string[] }} OnnxInput
 * @typedef {{ name: string, type: 'float32' | 'int64' | 'string', shape: (string | number)[] }} OnnxOutput
 * @typedef {{ inputs: OnnxInput[], outputs: OnnxOutput[], task: string, classes: string[] | null, threshold: number | null, target: string | null, historyRows: number }} OnnxSignature
 * @typedef {{ format: 1, name: string, version: number | string, createdAt: string, appVersion: string, signature: OnnxSignature, files: Record<string, string>, timeColumn?: string | null }} Manifest
 * @typedef {{ manifest: Manifest, manifestBytes: Buffer, sha256: string, signature: OnnxSignature, modelBytes: Buffer, files: Map<string, Buffer> }} CheckedBundle
 * @typedef {CheckedBundle & { dir: string }} VerifiedBundle
 */

/**
 * A bundle's files by name, as read from a folder or a .tar.gz, before any check.
 * @typedef {Map<string, Buffer>} BundleFiles
 */

/**
 * Reads a bundle from a folder or a .tar.gz file; the files are checked by `verifyFiles`.
 * @param {string} where
 * @param {number} maxUnpacked
 * @returns {BundleFiles}
 */
function readBundle(where, maxUnpacked) {
  let stat;
  try {
    stat = fs.statSync(where);
  } catch (e) {
    throw new BundleError(`No bundle at ${where}: it cannot be read (${e.code ?? e.message}).`);
  }
  if (stat.isDirectory()) return readFolder(where);
  if (stat.size > maxUnpacked) throw new BundleError(`${where} is larger than this endpoint takes (${bytesText(maxUnpacked)}).`);
  return filesOfArchive(fs.readFileSync(where), maxUnpacked, where);
}

/** The files of a bundle folder: the manifest, its signature, and every file the manifest lists. */
function readFolder(dir) {
  /** @type {BundleFiles} */
  const files = new Map();
  const manifestFile = path.join(dir, MANIFEST);
  try {
    files.set(MANIFEST, fs.readFileSync(manifestFile));
  } catch (e) {
    throw new BundleError(`No bundle at ${dir}: ${manifestFile} cannot be read (${e.code ?? e.message}).`);
  }
  const manifest = parseManifest(/** @type {Buffer} */ (files.get(MANIFEST)), manifestFile);
  try {
    files.set(SIGNATURE, fs.readFileSync(path.join(dir, SIGNATURE)));
  } catch (e) {
    if (e.code !== 'ENOENT') throw new BundleError(`${path.join(dir, SIGNATURE)} cannot be read (${e.code ?? e.message}).`);
  }
  for (const name of Object.keys(manifest.files)) {
    const file = path.join(dir, name);
    try {
      files.set(name, fs.readFileSync(file));
    } catch (e) {
      throw new BundleError(`The bundle lists ${name}, but ${file} cannot be read (${e.code ?? e.message}).`);
    }
  }
  return files;
}

/**
 * The files of a bundle .tar.gz; refuses unsafe entries and any file the manifest does not list.
 * @param {Buffer} gz
 * @param {number} maxUnpacked
 * @param {string} what
 * @returns {BundleFiles}
 */
function filesOfArchive(gz, maxUnpacked, what) {
  let entries;
  try {
    entries = readTarGz(gz, maxUnpacked, what);
  } catch (e) {
    if (e instanceof TarError) throw new BundleError(e.message);
    throw e;
  }
  const files = new Map(entries.map((e) => [e.name, e.data]));
  const bytes = files.get(MANIFEST);
  if (!bytes) throw new BundleError(`${what} has no ${MANIFEST}: it is not a Millwright bundle.`);
  const manifest = parseManifest(bytes, `${what}: ${MANIFEST}`);
  for (const name of files.keys()) {
    if (name !== MANIFEST && name !== SIGNATURE && !Object.hasOwn(manifest.files, name)) {
      throw new BundleError(`${what}: the entry ${JSON.stringify(name)} is not listed in ${MANIFEST}; refusing a bundle with files its signature does not cover.`);
    }
  }
  return files;
}

/**
 * Checks a bundle's files: the manifest, its Ed25519 signature against the
 * pinned key, and the sha256 of every file it lists. Throws BundleError
 * naming what is wrong.
 * @param {BundleFiles} files
 * @param {string} what how the bundle is named in refusals
 * @param {PinnedKey} key
 * @returns {CheckedBundle}
 */
function verifyFiles(files, what, key) {
  const manifestBytes = files.get(MANIFEST);
  if (!manifestBytes) throw new BundleError(`${what} has no ${MANIFEST}: it is not a Millwright bundle.`);
  const manifest = parseManifest(manifestBytes, `${what}: ${MANIFEST}`);
  checkSignature(files, manifestBytes, what, key);
  for (const [name, expected] of Object.entries(manifest.files)) {
    const bytes = files.get(name);
    if (!bytes) throw new BundleError(`${what}: ${MANIFEST} lists ${name}, but the bundle has no such file.`);
    const actual = sha256(bytes);
    if (actual !== expected.toLowerCase()) {
      throw new BundleError(`${name} does not match the bundle's manifest (sha256 ${actual}, manifest says ${expected}): the file was changed after the bundle was made. Refusing to serve it; install the bundle again from Millwright.`);
    }
  }
  return { manifest, manifestBytes, sha256: sha256(manifestBytes), signature: manifest.signature, modelBytes: /** @type {Buffer} */ (files.get(MODEL_FILE)), files };
}

function checkSignature(files, manifestBytes, what, key) {
  const sigBytes = files.get(SIGNATURE);
  if (!sigBytes) throw new BundleError(`${what} has no ${SIGNATURE}: unsigned bundles are refused. Export the bundle again from Millwright, which signs it with the workspace key.`);
  const text = sigBytes.toString('latin1').trim();
  const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
  if (!sig || sig.length !== 64) throw new BundleError(`${what}: ${SIGNATURE} is not a base64 Ed25519 signature (64 bytes).`);
  if (verify(null, manifestBytes, key.key, sig)) return;
  // Name the key that did sign it, when the bundle carries it, so operations knows which workspace it came from.
  let signer = null;
  const pub = files.get(PUBLIC_KEY);
  if (pub) {
    try {
      const k = parsePublicKey(pub.toString('utf8'), PUBLIC_KEY);
      if (verify(null, manifestBytes, k, sig)) signer = fingerprintOf(k);
    } catch {
      // not a key: nothing to name
    }
  }
  const pinned = `the workspace key pinned at install (${key.fingerprint})`;
  if (signer) throw new BundleError(`${SIGNATURE} does not verify with ${pinned}; this bundle was signed by ${signer}. Export it from the workspace this endpoint was installed from, or reinstall the endpoint with --key.`);
  throw new BundleError(`${SIGNATURE} does not verify with ${pinned}: ${MANIFEST} was changed after it was signed, or the bundle was signed by another key. Refusing it.`);
}

/**
 * A public key the bundles must be signed with.
 * @typedef {{ key: import('node:crypto').KeyObject, pem: string, fingerprint: string }} PinnedKey
 */

/** "SHA256:" and the unpadded base64 of the SPKI DER's sha256, as the app shows it. */
function fingerprintOf(key) {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

function parsePublicKey(pem, where) {
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new BundleError(`${where} is not a PEM public key.`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new BundleError(`${where} is a ${key.asymmetricKeyType} key; bundles are signed with Ed25519 keys.`);
  return key;
}

/** @param {string} pem @param {string} where @returns {PinnedKey} */
function pinnedKeyOf(pem, where) {
  const key = parsePublicKey(pem, where);
  return { key, pem: key.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: fingerprintOf(key) };
}

/**
 * The key every bundle must verify with: --key when given (and kept), else
 * the one pinned in the state folder, else the first bundle's own
 * workspace-key.pub.pem (trust on first use). Nothing is written here:
 * `pin` writes it once the first bundle has verified.
 * @param {string} stateDir
 * @param {string | null} keyFile
 * @param {BundleFiles} firstBundle
 * @returns {{ key: PinnedKey, source: 'option' | 'state' | 'bundle', file: string, changed: boolean }}
 */
function resolvePinnedKey(stateDir, keyFile, firstBundle) {
  const file = path.join(stateDir, PINNED_KEY_FILE);
  let saved = null;
  try {
    saved = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code !== 'ENOENT') throw new BundleError(`${file} cannot be read (${e.code ?? e.message}).`);
  }
  if (keyFile) {
    let pem;
    try {
      pem = fs.readFileSync(keyFile, 'utf8');
    } catch (e) {
      throw new BundleError(`--key ${keyFile} cannot be read (${e.code ?? e.message}).`);
    }
    const key = pinnedKeyOf(pem, `--key ${keyFile}`);
    return { key, source: 'option', file, changed: saved === null || pinnedKeyOf(saved, file).fingerprint !== key.fingerprint };
  }
  if (saved !== null) return { key: pinnedKeyOf(saved, file), source: 'state', file, changed: false };
  const pub = firstBundle.get(PUBLIC_KEY);
  if (!pub) throw new BundleError(`No workspace key to check the bundle's signature with: the bundle has no ${PUBLIC_KEY} and no key is pinned. Give the workspace's public key with --key FILE (or MILLWRIGHT_KEY).`);
  return { key: pinnedKeyOf(pub.toString('utf8'), `the bundle's ${PUBLIC_KEY}`), source: 'bundle', file, changed: true };
}

/** Keeps the pinned key in the state folder, so later starts and pushes verify against it. */
function pin(pinned) {
  if (pinned.changed) writeAtomic(pinned.file, pinned.key.pem, 0o644);
}

/**
 * Writes a checked bundle's files to STATE/bundles/<first 16 hex of the
 * manifest's sha256>/, through a temporary folder renamed into place, so a
 * crash leaves the whole bundle or none of it. A folder already there with
 * the same files is kept.
 * @param {string} bundlesDir
 * @param {CheckedBundle} b
 * @param {PinnedKey} key
 * @returns {VerifiedBundle}
 */
function installBundle(bundlesDir, b, key) {
  const dir = bundleDir(bundlesDir, b.sha256);
  if (fs.existsSync(dir)) {
    try {
      const there = verifyFiles(readFolder(dir), dir, key);
      if (there.sha256 === b.sha256) return { ...there, dir };
    } catch {
      // damaged: written again below
    }
  }
  fs.mkdirSync(bundlesDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(bundlesDir, `.tmp-${b.sha256.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const [name, bytes] of b.files) {
      const file = path.join(tmp, name);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const fd = fs.openSync(file, 'w', 0o600);
      try {
        fs.writeSync(fd, bytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new BundleError(`Cannot write the bundle into ${bundlesDir}: ${e.code ?? e.message}.`);
  }
  return { ...b, dir };
}

/** Reads and checks an installed bundle again (at start and before a rollback). */
function openInstalled(bundlesDir, sha, key) {
  const dir = bundleDir(bundlesDir, sha);
  const b = verifyFiles(readFolder(dir), dir, key);
  if (b.sha256 !== sha) throw new BundleError(`${dir} holds another bundle than the one recorded (${b.sha256.slice(0, 16)}).`);
  return { ...b, dir };
}

const bundleDir = (bundlesDir, sha) => path.join(bundlesDir, sha.slice(0, 16));

/** Removes installed bundles other than `keep`, and temporary folders a crash left. */
function pruneBundles(bundlesDir, keep) {
  let names;
  try {
    names = fs.readdirSync(bundlesDir);
  } catch {
    return;
  }
  const kept = new Set(keep.map((sha) => sha.slice(0, 16)));
  for (const name of names) {
    if (!kept.has(name)) fs.rmSync(path.join(bundlesDir, name), { recursive: true, force: true });
  }
}

/**
 * Reads and checks a bundle folder with the pinned key (the form the tests and startEdgeServer.swapBundle use).
 * @param {string} dir
 * @param {PinnedKey} key
 * @returns {VerifiedBundle}
 */
function verifyBundle(dir, key) {
  return { ...verifyFiles(readFolder(dir), dir, key), dir };
}

function parseManifest(bytes, where) {
  let manifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new BundleError(`${where} is not valid JSON (${e.message}).`);
  }
  checkManifest(manifest, where);
  return manifest;
}

/** A manifest value in a refusal, short: the manifest is read before its signature is checked, so it may be anything JSON.parse takes, nested deeper than JSON.stringify goes. */
function quoted(v) {
  let s;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? '[…]' : '{…}';
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function checkManifest(m, file) {
  const bad = (why) => new BundleError(`${file} is not a Millwright bundle manifest: ${why}.`);
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad('it is not a JSON object');
  if (m.format !== 1) throw bad(`format ${quoted(m.format)} is not one this endpoint reads (1); update the edge runtime`);
  if (typeof m.name !== 'string' || !m.name) throw bad('"name" is missing');
  if (!(typeof m.version === 'number' || (typeof m.version === 'string' && m.version))) throw bad('"version" is missing');
  if (m.timeColumn !== undefined && m.timeColumn !== null && typeof m.timeColumn !== 'string') throw bad('"timeColumn" must be a column name');
  if (!m.files || typeof m.files !== 'object') throw bad('"files" is missing');
  for (const [name, hash] of Object.entries(m.files)) {
    // Names stay inside the bundle folder.
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/.test(name)) throw bad(`the file name ${quoted(name)} is not allowed`);
    if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) throw bad(`the sha256 of ${name} is not 64 hex digits`);
  }
  if (!(MODEL_FILE in m.files)) throw bad(`it lists no ${MODEL_FILE}`);
  const s = m.signature;
  if (!s || typeof s !== 'object') throw bad('"signature" is missing');
  if (!Array.isArray(s.inputs) || !s.inputs.length) throw bad('the signature has no inputs');
  const names = new Set();
  for (const i of s.inputs) {
    if (!i || typeof i.name !== 'string' || !i.name) throw bad('an input has no name');
    if (i.type !== 'float32' && i.type !== 'string') throw bad(`input "${i.name}" has type ${quoted(i.type)}`);
    if (names.has(i.name)) throw bad(`input "${i.name}" is listed twice`);
    names.add(i.name);
  }
  if (!Array.isArray(s.outputs) || !s.outputs.length) throw bad('the signature has no outputs');
  for (const o of s.outputs) {
    if (!o || typeof o.name !== 'string' || !['float32', 'int64', 'string'].includes(o.type) || !Array.isArray(o.shape)) throw bad('an output is not {name, type, shape}');
  }
  if (!Number.isInteger(s.historyRows) || s.historyRows < 0) throw bad('"historyRows" must be a whole number');
  if ((s.task === 'binary' || s.task === 'multiclass') && (!Array.isArray(s.classes) || s.classes.length < 2)) throw bad('a classifier needs its classes');
}

module.exports = {
  readBundle,
  filesOfArchive,
  verifyFiles,
  verifyBundle,
  resolvePinnedKey,
  pin,
  pinnedKeyOf,
  fingerprintOf,
  installBundle,
  openInstalled,
  pruneBundles,
  BundleError,
  MODEL_FILE,
  sha256,
};
