'use strict';
/**
 * Opening a bundle: manifest.json, the sha256 of every file it lists, and an
 * ONNX Runtime session on model.onnx. The bytes that are hashed are the bytes
 * that are loaded, so a file changed between the check and the load is caught.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const MODEL_FILE = 'model.onnx';

/** A bundle that must not be served, with the reason in words an operator can act on. */
class BundleError extends Error {}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * @typedef {{ name: string, type: 'float32' | 'string', kind?: string, unit?: string | null, levels?: string[] }} OnnxInput
 * @typedef {{ name: string, type: 'float32' | 'int64' | 'string', shape: (string | number)[] }} OnnxOutput
 * @typedef {{ inputs: OnnxInput[], outputs: OnnxOutput[], task: string, classes: string[] | null, threshold: number | null, target: string | null, historyRows: number }} OnnxSignature
 * @typedef {{ format: 1, name: string, version: number | string, createdAt: string, appVersion: string, signature: OnnxSignature, files: Record<string, string>, timeColumn?: string | null }} Manifest
 * @typedef {{ dir: string, manifest: Manifest, signature: OnnxSignature, modelBytes: Buffer }} VerifiedBundle
 */

/**
 * Reads and checks a bundle folder; throws BundleError naming what is wrong.
 * @param {string} dir
 * @returns {VerifiedBundle}
 */
function verifyBundle(dir) {
  const manifestFile = path.join(dir, 'manifest.json');
  let text;
  try {
    text = fs.readFileSync(manifestFile, 'utf8');
  } catch (e) {
    throw new BundleError(`No bundle at ${dir}: ${manifestFile} cannot be read (${e.code ?? e.message}).`);
  }
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new BundleError(`${manifestFile} is not valid JSON (${e.message}).`);
  }
  checkManifest(manifest, manifestFile);
  /** @type {Map<string, Buffer>} */
  const contents = new Map();
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    let bytes;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new BundleError(`The bundle lists ${name}, but ${file} cannot be read (${e.code ?? e.message}).`);
    }
    const actual = sha256(bytes);
    if (actual !== expected.toLowerCase()) {
      throw new BundleError(`${name} does not match the bundle's manifest (sha256 ${actual}, manifest says ${expected}): the file was changed after the bundle was made. Refusing to serve it; install the bundle again from Millwright.`);
    }
    contents.set(name, bytes);
  }
  return { dir, manifest, signature: manifest.signature, modelBytes: /** @type {Buffer} */ (contents.get(MODEL_FILE)) };
}

function checkManifest(m, file) {
  const bad = (why) => new BundleError(`${file} is not a Millwright bundle manifest: ${why}.`);
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad('it is not a JSON object');
  if (m.format !== 1) throw bad(`format ${JSON.stringify(m.format)} is not one this endpoint reads (1); update the edge runtime`);
  if (typeof m.name !== 'string' || !m.name) throw bad('"name" is missing');
  if (!(typeof m.version === 'number' || (typeof m.version === 'string' && m.version))) throw bad('"version" is missing');
  if (m.timeColumn !== undefined && m.timeColumn !== null && typeof m.timeColumn !== 'string') throw bad('"timeColumn" must be a column name');
  if (!m.files || typeof m.files !== 'object') throw bad('"files" is missing');
  for (const [name, hash] of Object.entries(m.files)) {
    // Names stay inside the bundle folder.
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/.test(name)) throw bad(`the file name ${JSON.stringify(name)} is not allowed`);
    if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) throw bad(`the sha256 of ${name} is not 64 hex digits`);
  }
  if (!(MODEL_FILE in m.files)) throw bad(`it lists no ${MODEL_FILE}`);
  const s = m.signature;
  if (!s || typeof s !== 'object') throw bad('"signature" is missing');
  if (!Array.isArray(s.inputs) || !s.inputs.length) throw bad('the signature has no inputs');
  const names = new Set();
  for (const i of s.inputs) {
    if (!i || typeof i.name !== 'string' || !i.name) throw bad('an input has no name');
    if (i.type !== 'float32' && i.type !== 'string') throw bad(`input "${i.name}" has type ${JSON.stringify(i.type)}`);
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

module.exports = { verifyBundle, BundleError, MODEL_FILE, sha256 };
