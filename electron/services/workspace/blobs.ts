import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { AppError } from '../../../shared/errors';
import { diskFullError } from './disk-full';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed, immutable blobs under `blobs/<sha256>`.
 *
 * Every write goes to `tmp/` first, is fsynced, then renamed into place and the
 * folder fsynced, so a crash never leaves a half-written blob under a real name.
 * `tmp/` is inside the workspace, so the rename never crosses file systems.
 */
export class BlobStore {
  constructor(
    readonly dir: string,
    private readonly tmpDir: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(tmpDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new AppError('bad_input', `"${sha256.slice(0, 80)}" is not a content hash.`);
    return path.join(this.dir, sha256);
  }

  has(sha256: string): boolean {
    return fs.existsSync(this.pathOf(sha256));
  }

  /**
   * Marks a stored blob as just written when new bytes turn out to be the
   * same: an old unreferenced blob about to be referenced again is then as
   * young as a new one to the sweep (blob-sweep.ts), which keeps blobs
   * written in the last hour.
   */
  private touch(sha256: string): void {
    const now = new Date();
    try {
      fs.utimesSync(this.pathOf(sha256), now, now);
    } catch {
      // A read-only store is never swept.
    }
  }

  /** Stores bytes and returns their sha256. Storing the same bytes twice is free. */
  put(data: Uint8Array | string): string {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    if (this.has(sha)) {
      this.touch(sha);
      return sha;
    }
    const tmp = this.tmpName();
    const fd = fs.openSync(tmp, 'wx');
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw this.ioError('write', tmp, err);
    }
    fs.closeSync(fd);
    this.commit(tmp, sha);
    return sha;
  }

  /**
   * Streams a file into the store without holding it in memory.
   * `onBytes` is told how many bytes have been copied so far.
   */
  async putFile(source: string, onBytes?: (copied: number) => void, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
    const hash = crypto.createHash('sha256');
    const tmp = this.tmpName();
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(size);
        done(null, chunk);
      },
    });
    const out = fs.createWriteStream(tmp, { flags: 'wx' });
    try {
      await pipeline(fs.createReadStream(source), counter, out, { signal });
      const fd = fs.openSync(tmp, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if ((err as Error).name === 'AbortError') throw new AppError('cancelled');
      throw this.ioError('read', source, err);
    }
    const sha = hash.digest('hex');
    if (this.has(sha)) {
      fs.rmSync(tmp, { force: true });
      this.touch(sha);
    } else this.commit(tmp, sha);
    return { sha256: sha, size };
  }

  read(sha256: string): Buffer {
    try {
      return fs.readFileSync(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AppError('not_found', `Stored content ${sha256.slice(0, 12)}… is missing from the workspace.`);
      }
      throw this.ioError('read', this.pathOf(sha256), err);
    }
  }

  /** True when the blob's bytes still hash to its name. */
  verify(sha256: string): boolean {
    const actual = crypto.createHash('sha256').update(this.read(sha256)).digest('hex');
    return actual === sha256;
  }

  list(): string[] {
    return fs.readdirSync(this.dir).filter((n) => SHA256.test(n));
  }

  /** Leftovers of writes interrupted by a crash; safe to delete when no writer runs. */
  cleanTmp(olderThanMs = 60 * 60 * 1000): number {
    let removed = 0;
    const now = Date.now();
    for (const name of fs.readdirSync(this.tmpDir)) {
      if (!name.endsWith('.part')) continue;
      const p = path.join(this.tmpDir, name);
      try {
        if (now - fs.statSync(p).mtimeMs > olderThanMs) {
          fs.rmSync(p, { force: true });
          removed++;
        }
      } catch {
        // Another process removed it first.
      }
    }
    return removed;
  }

  /** A full disk is named as the workspace's (the blobs folder is inside it), whichever file was being written. */
  private ioError(verb: 'read' | 'write', file: string, err: unknown): AppError {
    return diskFullError(path.dirname(this.dir), err) ?? ioError(verb, file, err);
  }

  private tmpName(): string {
    return path.join(this.tmpDir, `blob-${process.pid}-${crypto.randomBytes(6).toString('hex')}.part`);
  }

  private commit(tmp: string, sha: string): void {
    const final = this.pathOf(sha);
    try {
      fs.chmodSync(tmp, 0o444);
      fs.renameSync(tmp, final);
      fsyncDir(this.dir);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw this.ioError('write', final, err);
    }
  }
}

function fsyncDir(dir: string): void {
  // Windows cannot open a directory for fsync; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function ioError(verb: 'read' | 'write', file: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission was denied'
        : code === 'ENOENT'
          ? 'it does not exist'
          : (err as Error).message;
  return new AppError('io', `Could not ${verb} ${file}: ${why}.`);
}
