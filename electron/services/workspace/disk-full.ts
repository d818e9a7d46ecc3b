import fs from 'node:fs';
import { AppError } from '../../../shared/errors';

/** Errors that mean the disk (or a quota) has no room left. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Below this much free space, an I/O error SQLite cannot explain is taken as a full disk. */
const NEARLY_FULL_BYTES = 1 << 20;

/**
 * The sentence for a write the disk stopped, naming the workspace's folder;
 * null when `err` is something else. SQLite reports a full disk as a plain
 * "disk I/O error" when it cannot grow its shared-memory file (WAL), so an
 * I/O error on a disk with (almost) nothing free counts as full too.
 */
export function diskFullError(workspaceDir: string, err: unknown): AppError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const advice = 'Free some space on it (or move the workspace to a disk with more room) and try again.';
  if (NO_ROOM.has(code) || (code.startsWith('SQLITE_IOERR') && nearlyFull(workspaceDir))) {
    return new AppError('io', `The disk holding the workspace (${workspaceDir}) is full: nothing more can be written there. ${advice}`);
  }
  if (code === 'EFBIG') {
    return new AppError('io', `The disk holding the workspace (${workspaceDir}) is full for a file this large: it takes no bigger files (a size limit, or a FAT32 disk's 4 GB). Move the workspace to a disk without that limit (or raise the limit) and try again.`);
  }
  return null;
}

function nearlyFull(dir: string): boolean {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}
