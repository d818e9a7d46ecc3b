'use strict';
/**
 * Which bundle the endpoint serves and which it served before, kept in
 * STATE/bundles.json (replaced atomically at every change) with the bundles
 * themselves in STATE/bundles/. Only those two bundles are kept on disk.
 */
const fs = require('node:fs');
const path = require('node:path');
const { installBundle, openInstalled, pruneBundles, readBundle, resolvePinnedKey, verifyFiles, pin } = require('./bundle');
const { writeAtomic } = require('./state');

/**
 * @typedef {{ sha256: string, name: string, version: string, task: string, installedAt: string }} InstalledEntry
 * @typedef {{ format: 1, startedWith: string, current: InstalledEntry, previous: InstalledEntry | null }} InstalledRecord
 */

/** @param {import('./bundle').CheckedBundle} b @returns {InstalledEntry} */
function entryOf(b, at = new Date().toISOString()) {
  return { sha256: b.sha256, name: b.manifest.name, version: String(b.manifest.version), task: String(b.signature.task), installedAt: at };
}

class Installed {
  /**
   * @param {string} stateDir
   * @param {import('./bundle').PinnedKey} key
   * @param {(message: string) => void} warn
   */
  constructor(stateDir, key, warn) {
    this.file = path.join(stateDir, 'bundles.json');
    this.dir = path.join(stateDir, 'bundles');
    this.key = key;
    this.warn = warn;
    /** @type {InstalledRecord | null} */
    this.record = null;
  }

  /** bundles.json as saved; null when missing or not readable as a record (the --bundle given then wins). */
  read() {
    let saved;
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (e) {
      if (e.code !== 'ENOENT') this.warn(`${this.file} cannot be read (${e.code ?? e.message}); starting from the bundle given with --bundle.`);
      return null;
    }
    const entry = (x) => x && typeof x === 'object' && typeof x.sha256 === 'string' && /^[0-9a-f]{64}$/.test(x.sha256);
    if (!saved || saved.format !== 1 || typeof saved.startedWith !== 'string' || !entry(saved.current) || !(saved.previous === null || entry(saved.previous))) {
      this.warn(`${this.file} is not a record of installed bundles; starting from the bundle given with --bundle.`);
      return null;
    }
    return /** @type {InstalledRecord} */ (saved);
  }

  /**
   * The restart rule: when --bundle is the bundle the endpoint was last
   * started with, the bundle it served last (perhaps pushed since) is served
   * again; when --bundle changed, operations installed a new one and it wins
   * (what was served becomes the previous one).
   * @param {import('./bundle').CheckedBundle} given the bundle named by --bundle, checked
   * @returns {import('./bundle').VerifiedBundle} the bundle to serve
   */
  start(given) {
    const saved = this.read();
    const installedGiven = installBundle(this.dir, given, this.key);
    if (saved && saved.startedWith === given.sha256 && saved.current.sha256 !== given.sha256) {
      try {
        const current = openInstalled(this.dir, saved.current.sha256, this.key);
        this.record = saved;
        this.save();
        return current;
      } catch (e) {
        this.warn(`The bundle served before the restart (${saved.current.name} version ${saved.current.version}) cannot be served again: ${e.message} Serving the one given with --bundle.`);
      }
    }
    if (saved && saved.current.sha256 === given.sha256) {
      this.record = { ...saved, startedWith: given.sha256 };
    } else {
      const previous = saved ? (saved.current.sha256 !== given.sha256 ? saved.current : saved.previous) : null;
      this.record = { format: 1, startedWith: given.sha256, current: entryOf(given), previous };
    }
    this.save();
    return installedGiven;
  }

  /** Writes a checked bundle into the state folder (before it is loaded and swapped in). */
  install(b) {
    return installBundle(this.dir, b, this.key);
  }

  /** The previous bundle, read and checked again. */
  openPrevious() {
    const p = /** @type {InstalledRecord} */ (this.record).previous;
    if (!p) return null;
    return openInstalled(this.dir, p.sha256, this.key);
  }

  /** Records `b` as served now, the one it replaced as the previous one. */
  served(b) {
    const rec = /** @type {InstalledRecord} */ (this.record);
    this.record = { ...rec, current: entryOf(b), previous: rec.current };
    this.save();
  }

  save() {
    const rec = /** @type {InstalledRecord} */ (this.record);
    writeAtomic(this.file, `${JSON.stringify(rec, null, 2)}\n`);
    pruneBundles(this.dir, [rec.current.sha256, ...(rec.previous ? [rec.previous.sha256] : [])]);
  }
}

/**
 * At start: reads the --bundle (folder or .tar.gz), settles the pinned key,
 * checks the bundle with it, and applies the restart rule. Throws
 * BundleError when the bundle cannot be served.
 * @param {{ bundle: string, state: string, key: string | null, maxBundle: number }} opts
 * @param {(line: Record<string, unknown>) => void} say
 * @param {(message: string) => void} warn
 */
function installAtStart(opts, say, warn) {
  const maxUnpacked = 4 * opts.maxBundle;
  const files = readBundle(opts.bundle, maxUnpacked);
  const pinned = resolvePinnedKey(opts.state, opts.key, files);
  const given = verifyFiles(files, opts.bundle, pinned.key);
  pin(pinned);
  if (pinned.changed) {
    const note =
      pinned.source === 'bundle'
        ? 'Trust on first use: the first bundle\'s workspace key is now pinned; every bundle served or pushed from now on must be signed with it. Check this fingerprint against the one Millwright shows.'
        : 'The key given with --key is now pinned; every bundle served or pushed must be signed with it.';
    say({ key: { fingerprint: pinned.key.fingerprint, source: pinned.source, file: pinned.file, note } });
  }
  const installed = new Installed(opts.state, pinned.key, warn);
  const served = installed.start(given);
  return { key: pinned.key, installed, served, maxUnpacked };
}

module.exports = { Installed, entryOf, installAtStart };
