import os from 'node:os';
import path from 'node:path';

/**
 * The OS app-data folder for Millwright's workspace:
 * Windows %APPDATA%\Millwright, macOS ~/Library/Application Support/Millwright,
 * Linux $XDG_DATA_HOME/Millwright (default ~/.local/share/Millwright).
 */
export function defaultWorkspaceDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  if (platform === 'win32') {
    return path.win32.join(env.APPDATA || path.win32.join(home, 'AppData', 'Roaming'), 'Millwright');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Millwright');
  return path.posix.join(env.XDG_DATA_HOME || path.posix.join(home, '.local', 'share'), 'Millwright');
}

/** `--workspace DIR` wins over `MILLWRIGHT_HOME`, which wins over the default. */
export function resolveWorkspaceDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag || env.MILLWRIGHT_HOME;
  return chosen ? path.resolve(chosen) : defaultWorkspaceDir(process.platform, env);
}

/** The OS user, recorded as "who" in the audit log and on jobs. */
export function currentUser(): string {
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return process.env.USER || process.env.USERNAME || 'unknown';
  }
}
