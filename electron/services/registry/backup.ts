import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { AppError } from '../../../shared/errors';
import type { Workspace } from '../workspace/workspace';
import { referencedBlobs } from '../workspace/blob-sweep';

/**
 * Backup, restore and check of a whole workspace (DESIGN.md section 8): one
 * .tar.gz with a consistent copy of the database, every blob and the
 * workspace keys, and a check that every blob is what its name says and
 * every record's blobs are there.
 */

const DB_FILE = 'millwright.db';
const MANIFEST = 'manifest.json';
const BLOB_NAME = /^[0-9a-f]{64}$/;

export interface BackupManifest {
  format: 1;
  app: string;
  createdAt: string;
  createdBy: string;
  schemaVersion: number;
  files: { path: string; bytes: number; sha256: string }[];
}

export interface CheckReport {
  ok: boolean;
  blobs: number;
  referenced: number;
  database: 'ok' | string;
  /** One plain sentence per problem. */
  problems: string[];
  /** Blobs nothing refers to (harmless; kept until a clean-up). */
  unreferenced: number;
}

// ---------------------------------------------------------------------------
// tar (POSIX ustar): enough for regular files with short relative names.

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function tarHeader(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(mtime, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

async function* tarStream(entries: { name: string; file: string }[], mtime: number): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const size = fs.statSync(e.file).size;
    yield tarHeader(e.name, size, mtime);
    for await (const chunk of fs.createReadStream(e.file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    const pad = (512 - (size % 512)) % 512;
    if (pad) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(1024);
}

function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Writes the workspace into one .tar.gz: manifest.json, millwright.db (a consistent copy), blobs/, keys/. */
export async function backupWorkspace(ws: Workspace, out: string, appVersion: string): Promise<{ file: string; bytes: number; files: number }> {
  const file = path.resolve(out);
  if (!fs.existsSync(path.dirname(file))) throw new AppError('bad_input', `Cannot write ${file}: the folder ${path.dirname(file)} does not exist.`, 'out');
  if (fs.existsSync(file)) throw new AppError('bad_input', `${file} already exists. Choose a new file name for the backup.`, 'out');
  const scratch = fs.mkdtempSync(path.join(ws.dir, 'tmp', 'backup-'));
  const tmp = `${file}.part-${process.pid}`;
  try {
    // VACUUM INTO writes a consistent, compact copy while the workspace stays open.
    const dbCopy = path.join(scratch, DB_FILE);
    ws.db.prepare('VACUUM INTO ?').run(dbCopy);
    const entries: { name: string; file: string }[] = [{ name: DB_FILE, file: dbCopy }];
    for (const sub of ['blobs', 'keys']) {
      const dir = path.join(ws.dir, sub);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir).sort()) {
        const f = path.join(dir, name);
        if (fs.statSync(f).isFile()) entries.push({ name: `${sub}/${name}`, file: f });
      }
    }
    const manifest: BackupManifest = {
      format: 1,
      app: appVersion,
      createdAt: new Date().toISOString(),
      createdBy: ws.who,
      schemaVersion: ws.schemaVersion,
      files: entries.map((e) => ({ path: e.name, bytes: fs.statSync(e.file).size, sha256: e.name.startsWith('blobs/') ? path.basename(e.name) : sha256File(e.file) })),
    };
    const manifestFile = path.join(scratch, MANIFEST);
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    await pipeline(Readable.from(tarStream([{ name: MANIFEST, file: manifestFile }, ...entries], Math.floor(Date.now() / 1000))), zlib.createGzip({ level: 6 }), fs.createWriteStream(tmp));
    fs.renameSync(tmp, file);
    ws.audit.record('workspace.backup', { file, files: entries.length });
    return { file, bytes: fs.statSync(file).size, files: entries.length };
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Unpacks a backup into a new workspace folder (which must not exist or be empty), checking every file against the manifest. */
export async function restoreWorkspace(archive: string, target: string): Promise<{ dir: string; files: number; manifest: BackupManifest }> {
  const file = path.resolve(archive);
  const dir = path.resolve(target);
  if (!fs.existsSync(file)) throw new AppError('not_found', `${file} does not exist.`, 'file');
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new AppError('bad_input', `${dir} is not empty. Restore into a new folder, so no workspace is overwritten.`, 'to');
  const staging = `${dir}.part-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const written: string[] = [];
  try {
    let pending: Buffer = Buffer.alloc(0);
    let current: { name: string; left: number; pad: number; fd: number } | null = null;
    let ended = false;
    const bad = (why: string) => new AppError('bad_input', `${path.basename(file)} is not a Millwright backup (${why}).`, 'file');
    const allowed = (name: string) => name === MANIFEST || name === DB_FILE || (/^blobs\/[0-9a-f]{64}$/.test(name)) || /^keys\/[\w.-]+$/.test(name);
    const gunzip = zlib.createGunzip();
    fs.createReadStream(file).pipe(gunzip);
    try {
      for await (const chunk of gunzip) {
        pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
        for (;;) {
          if (ended) break;
          if (current) {
            if (current.left > 0) {
              const n = Math.min(current.left, pending.length);
              if (!n) break;
              fs.writeSync(current.fd, pending.subarray(0, n));
              pending = pending.subarray(n);
              current.left -= n;
              if (current.left > 0) break;
            }
            if (pending.length < current.pad) break;
            pending = pending.subarray(current.pad);
            fs.closeSync(current.fd);
            current = null;
            continue;
          }
          if (pending.length < 512) break;
          const h = pending.subarray(0, 512);
          pending = pending.subarray(512);
          if (h.every((b) => b === 0)) { ended = true; break; }
          if (h.toString('ascii', 257, 262) !== 'ustar') throw bad('no tar header');
          const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
          const size = parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
          if (!allowed(name)) throw bad(`unexpected entry "${name.slice(0, 80)}"`);
          const out = path.join(staging, name);
          fs.mkdirSync(path.dirname(out), { recursive: true });
          written.push(name);
          current = { name, left: size, pad: (512 - (size % 512)) % 512, fd: fs.openSync(out, 'w') };
        }
      }
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw bad((e as Error).message);
    } finally {
      if (current) fs.closeSync(current.fd);
    }
    if (!written.includes(MANIFEST) || !written.includes(DB_FILE)) throw bad('no manifest or database');
    const manifest = JSON.parse(fs.readFileSync(path.join(staging, MANIFEST), 'utf8')) as BackupManifest;
    for (const f of manifest.files) {
      const p = path.join(staging, f.path);
      if (!fs.existsSync(p)) throw bad(`${f.path} is missing`);
      if (sha256File(p) !== f.sha256) throw new AppError('bad_input', `${path.basename(file)} is damaged: ${f.path} does not match its checksum.`, 'file');
    }
    fs.rmSync(path.join(staging, MANIFEST));
    if (fs.existsSync(dir)) fs.rmdirSync(dir);
    fs.renameSync(staging, dir);
    return { dir, files: manifest.files.length, manifest };
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Checks the database's integrity and every blob's hash; names what is wrong in plain words. */
export function checkWorkspace(dir: string): CheckReport {
  const dbFile = path.join(dir, DB_FILE);
  if (!fs.existsSync(dbFile)) throw new AppError('not_found', `${dir} has no workspace database (${DB_FILE}).`, 'workspace');
  const problems: string[] = [];
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  let database = 'ok';
  let refs: Map<string, string>;
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (integrity.join() !== 'ok') {
      database = integrity.slice(0, 5).join('; ');
      problems.push(`The database is damaged: ${database}.`);
    }
    const fk = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
    for (const f of fk.slice(0, 10)) problems.push(`A row of ${f.table} (row ${f.rowid}) refers to a missing row of ${f.parent}.`);
    refs = referencedBlobs(db);
  } finally {
    db.close();
  }
  const blobDir = path.join(dir, 'blobs');
  const present = fs.existsSync(blobDir) ? fs.readdirSync(blobDir).filter((n) => BLOB_NAME.test(n)) : [];
  const have = new Set(present);
  for (const name of present) {
    if (sha256File(path.join(blobDir, name)) !== name) problems.push(`Blob ${name.slice(0, 12)}… is damaged: its content does not match its name${refs.has(name) ? ` (it holds ${refs.get(name)})` : ''}.`);
  }
  for (const [blob, what] of refs) if (!have.has(blob)) problems.push(`Missing blob ${blob.slice(0, 12)}…: ${what} cannot be read.`);
  let unreferenced = 0;
  for (const name of present) if (!refs.has(name)) unreferenced++;
  return { ok: problems.length === 0, blobs: present.length, referenced: refs.size, database, problems, unreferenced };
}
