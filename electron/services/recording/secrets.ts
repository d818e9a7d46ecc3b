/**
 * Sealing the passwords of sources (OPC UA user, MQTT broker) before they
 * go into SQLite, so a copied workspace database gives nobody a plant
 * password.
 *
 * - In the desktop app, Electron's safeStorage seals them with the OS's
 *   keychain (DPAPI on Windows, Keychain on macOS, libsecret/kwallet on
 *   Linux): only this user on this PC can open them. main.ts hands
 *   `safeStorageSealer(safeStorage)` to the core.
 * - Without Electron (CLI, server mode) they are sealed with AES-256-GCM
 *   under a random key in the workspace's keys/ folder (mode 0600): the
 *   database alone is not enough, the key file is needed too.
 *
 * Each sealed secret remembers which sealer made it; one the current process
 * cannot open (safeStorage's, read by the CLI) says so in words.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';

export type SealerKind = 'safeStorage' | 'workspace-key';

export interface Sealer {
  readonly kind: SealerKind;
  seal(text: string): Buffer;
  open(sealed: Buffer): string;
}

/** The part of Electron's safeStorage this uses (kept structural so the core never imports Electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(text: string): Buffer;
  decryptString(data: Buffer): string;
  /** Linux only: which keyring it uses; 'basic_text' is a password written in Chromium's source, no better than clear text. */
  getSelectedStorageBackend?(): string;
}

/**
 * A sealer backed by Electron's safeStorage, or null when the OS offers no
 * keychain (or only Linux's basic_text fallback): the workspace key seals
 * then, which at least needs the key file beside the database.
 */
export function safeStorageSealer(ss: SafeStorageLike): Sealer | null {
  if (!ss.isEncryptionAvailable()) return null;
  if (process.platform === 'linux' && ss.getSelectedStorageBackend?.() === 'basic_text') return null;
  return {
    kind: 'safeStorage',
    seal: (t) => ss.encryptString(t),
    open: (b) => {
      try {
        return ss.decryptString(b);
      } catch {
        throw new AppError('io', "A saved password cannot be opened with this PC's keychain (it was saved by another user or on another PC). Enter it again in the source settings.");
      }
    },
  };
}

const KEY_FILE = 'sources.key';
const VERSION = 1;

/** AES-256-GCM under a random key kept in `keysDir` (created 0600 on first use). Sealed: version byte, 12-byte IV, 16-byte tag, ciphertext. */
export function workspaceKeySealer(keysDir: string): Sealer {
  const file = path.join(keysDir, KEY_FILE);
  let key: Buffer | null = null;
  const loadKey = (): Buffer => {
    if (key) return key;
    try {
      key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new AppError('io', `Cannot read the key that protects source passwords (${file}): ${(e as Error).message}.`);
      fs.mkdirSync(keysDir, { recursive: true });
      const fresh = crypto.randomBytes(32);
      try {
        fs.writeFileSync(file, fresh.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
        key = fresh;
      } catch (w) {
        // Another process wrote it first: use theirs.
        if ((w as NodeJS.ErrnoException).code !== 'EEXIST') throw new AppError('io', `Cannot write the key that protects source passwords (${file}): ${(w as Error).message}.`);
        key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
      }
    }
    if (key.length !== 32) throw new AppError('io', `The key that protects source passwords (${file}) is damaged. Remove it and enter the passwords again.`);
    return key;
  };
  return {
    kind: 'workspace-key',
    seal(text) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', loadKey(), iv);
      const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body]);
    },
    open(sealed) {
      if (sealed.length < 29 || sealed[0] !== VERSION) throw new AppError('io', 'A saved password cannot be read. Enter it again in the source settings.');
      const d = crypto.createDecipheriv('aes-256-gcm', loadKey(), sealed.subarray(1, 13));
      d.setAuthTag(sealed.subarray(13, 29));
      try {
        return Buffer.concat([d.update(sealed.subarray(29)), d.final()]).toString('utf8');
      } catch {
        throw new AppError('io', `A saved password cannot be opened with this workspace's key (${file}). Enter it again in the source settings.`);
      }
    },
  };
}

/** Opens a secret sealed by `kind` with whichever sealers this process has. */
export function openSecret(sealers: readonly Sealer[], kind: string, sealed: Buffer, sourceName: string): string {
  const s = sealers.find((x) => x.kind === kind);
  if (!s) {
    throw new AppError(
      'conflict',
      kind === 'safeStorage'
        ? `The password of "${sourceName}" is kept in this PC's keychain by the desktop app; the command line cannot open it. Give it with --password-env, or record from the app.`
        : `The password of "${sourceName}" was sealed in a way this Millwright cannot open (${kind}). Enter it again in the source settings.`,
    );
  }
  return s.open(sealed);
}
