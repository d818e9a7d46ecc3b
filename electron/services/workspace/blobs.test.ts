import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { BlobStore } from './blobs';

const sha = (bytes: Uint8Array | string) => crypto.createHash('sha256').update(bytes).digest('hex');
const fileSha = (file: string) => sha(fs.readFileSync(file));

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

/** Writes about 5 MB of varied, reproducible bytes. */
function writeBigFile(file: string): number {
  const fd = fs.openSync(file, 'w');
  let size = 0;
  try {
    for (let i = 0; i < 80; i++) {
      const chunk = crypto.createHash('sha512').update(String(i)).digest();
      const block = Buffer.alloc(65_536 + i, chunk);
      fs.writeSync(fd, block);
      size += block.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return size;
}

let root: string;
let blobDir: string;
let tmpDir: string;
let store: BlobStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-blobs-'));
  blobDir = path.join(root, 'blobs');
  tmpDir = path.join(root, 'tmp');
  store = new BlobStore(blobDir, tmpDir);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('BlobStore', () => {
  it('creates its folders', () => {
    expect(fs.statSync(blobDir).isDirectory()).toBe(true);
    expect(fs.statSync(tmpDir).isDirectory()).toBe(true);
  });

  it('stores bytes under their sha256 and reads them back', () => {
    const bytes = Buffer.from('UDI,Torque\n1,42.8\n');
    const hash = store.put(bytes);
    expect(hash).toBe(sha(bytes));
    expect(fs.readdirSync(blobDir)).toEqual([hash]);
    expect(store.pathOf(hash)).toBe(path.join(blobDir, hash));
    expect(store.read(hash).equals(bytes)).toBe(true);
    expect(store.has(hash)).toBe(true);
    expect(store.verify(hash)).toBe(true);
  });

  it('hashes text as UTF-8', () => {
    const text = 'Temperatur 23,5 °C – Ölpumpe';
    const hash = store.put(text);
    expect(hash).toBe(sha(Buffer.from(text, 'utf8')));
    expect(store.read(hash).toString('utf8')).toBe(text);
  });

  it('stores an empty blob', () => {
    const hash = store.put(new Uint8Array(0));
    expect(hash).toBe(sha(''));
    expect(store.read(hash).length).toBe(0);
  });

  it('makes stored blobs read-only', () => {
    const hash = store.put('immutable');
    expect(fs.statSync(store.pathOf(hash)).mode & 0o777).toBe(0o444);
  });

  it('stores the same bytes only once', () => {
    const first = store.put('same bytes');
    const inode = fs.statSync(store.pathOf(first)).ino;
    const second = store.put(Buffer.from('same bytes'));
    expect(second).toBe(first);
    expect(store.list()).toEqual([first]);
    // Not written again (the same file), only marked as just stored (blob-sweep.test.ts).
    expect(fs.statSync(store.pathOf(first)).ino).toBe(inode);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('leaves nothing in tmp after a put', () => {
    store.put('a');
    store.put('b');
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    expect(store.list().sort()).toEqual([sha('a'), sha('b')].sort());
  });

  it('streams a 5 MB file in and hashes it like crypto does', async () => {
    const source = path.join(root, 'big.bin');
    const size = writeBigFile(source);
    expect(size).toBeGreaterThan(5_000_000);
    const seen: number[] = [];
    const { sha256, size: stored } = await store.putFile(source, (n) => seen.push(n));
    expect(sha256).toBe(fileSha(source));
    expect(stored).toBe(size);
    expect(fileSha(store.pathOf(sha256))).toBe(sha256);
    expect(store.verify(sha256)).toBe(true);
    // Progress is reported in several steps, only ever grows, and ends at the size.
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(seen.at(-1)).toBe(size);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('stores a streamed file only once', async () => {
    const source = path.join(root, 'small.csv');
    fs.writeFileSync(source, 'a,b\n1,2\n');
    const first = await store.putFile(source);
    const second = await store.putFile(source);
    expect(second).toEqual(first);
    expect(store.list()).toEqual([first.sha256]);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    // put and putFile agree on the name of the same bytes.
    expect(store.put('a,b\n1,2\n')).toBe(first.sha256);
  });

  it('reports a missing source as an io error and cleans up', async () => {
    const err = await rejection(store.putFile(path.join(root, 'nope.csv')));
    expect(err.code).toBe('io');
    expect(err.message).toContain('nope.csv');
    expect(err.message).toContain('does not exist');
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('stops a streamed copy when aborted and leaves nothing behind', async () => {
    const source = path.join(root, 'big.bin');
    writeBigFile(source);
    const controller = new AbortController();
    const err = await rejection(
      store.putFile(
        source,
        (n) => {
          if (n > 1_000_000) controller.abort();
        },
        controller.signal,
      ),
    );
    expect(err.code).toBe('cancelled');
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('detects a blob whose bytes were changed', () => {
    const hash = store.put('original reading 42.8');
    const file = store.pathOf(hash);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'tampered reading 99.9');
    expect(store.verify(hash)).toBe(false);
    const other = store.put('untouched');
    expect(store.verify(other)).toBe(true);
  });

  it('answers not_found for a hash it does not hold', () => {
    const missing = sha('never stored');
    expect(store.has(missing)).toBe(false);
    const err = thrown(() => store.read(missing));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain(missing.slice(0, 12));
  });

  it('refuses names that are not content hashes, including path traversal', () => {
    const valid = sha('x');
    const bad = ['../x', '../../etc/passwd', `../${valid}`, `${valid}/..`, valid.toUpperCase(), valid.slice(1), `${valid}0`, '', 'a'.repeat(63) + 'g'];
    for (const name of bad) {
      expect(thrown(() => store.pathOf(name)).code, name).toBe('bad_input');
      expect(thrown(() => store.read(name)).code, name).toBe('bad_input');
      expect(thrown(() => store.has(name)).code, name).toBe('bad_input');
    }
  });

  it('lists only blobs, not other files in the folder', () => {
    const hash = store.put('a blob');
    fs.writeFileSync(path.join(blobDir, 'notes.txt'), 'stray');
    expect(store.list()).toEqual([hash]);
  });

  it('cleans only old leftovers from tmp', () => {
    const old = path.join(tmpDir, 'blob-1-aaaa.part');
    const fresh = path.join(tmpDir, 'blob-2-bbbb.part');
    fs.writeFileSync(old, 'half');
    fs.writeFileSync(fresh, 'writing');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(old, twoHoursAgo, twoHoursAgo);
    const blob = store.put('kept');

    expect(store.cleanTmp()).toBe(1);
    expect(fs.readdirSync(tmpDir)).toEqual(['blob-2-bbbb.part']);
    expect(store.has(blob)).toBe(true);

    expect(store.cleanTmp(60 * 60 * 1000)).toBe(0);
    expect(fs.existsSync(fresh)).toBe(true);
  });

  it('honours a shorter age for cleaning tmp', () => {
    const part = path.join(tmpDir, 'blob-3-cccc.part');
    fs.writeFileSync(part, 'x');
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    fs.utimesSync(part, tenSecondsAgo, tenSecondsAgo);
    expect(store.cleanTmp(60_000)).toBe(0);
    expect(store.cleanTmp(5_000)).toBe(1);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });
});
