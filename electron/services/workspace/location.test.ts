import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentUser, defaultWorkspaceDir, resolveWorkspaceDir } from './location';

describe('defaultWorkspaceDir', () => {
  it('uses %APPDATA% on Windows', () => {
    expect(defaultWorkspaceDir('win32', { APPDATA: 'D:\\Profiles\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe(
      'D:\\Profiles\\ana\\AppData\\Roaming\\Millwright',
    );
  });

  it('falls back to the roaming folder under home on Windows without %APPDATA%', () => {
    expect(defaultWorkspaceDir('win32', {}, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Millwright');
    expect(defaultWorkspaceDir('win32', { APPDATA: '' }, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Millwright');
  });

  it('uses Application Support on macOS, ignoring XDG', () => {
    expect(defaultWorkspaceDir('darwin', { XDG_DATA_HOME: '/xdg' }, '/Users/ana')).toBe('/Users/ana/Library/Application Support/Millwright');
  });

  it('uses $XDG_DATA_HOME on Linux', () => {
    expect(defaultWorkspaceDir('linux', { XDG_DATA_HOME: '/data/ana' }, '/home/ana')).toBe('/data/ana/Millwright');
  });

  it('falls back to ~/.local/share on Linux', () => {
    expect(defaultWorkspaceDir('linux', {}, '/home/ana')).toBe('/home/ana/.local/share/Millwright');
    expect(defaultWorkspaceDir('linux', { XDG_DATA_HOME: '' }, '/home/ana')).toBe('/home/ana/.local/share/Millwright');
  });

  it('ignores %APPDATA% off Windows', () => {
    expect(defaultWorkspaceDir('linux', { APPDATA: 'C:\\x' }, '/home/ana')).toBe('/home/ana/.local/share/Millwright');
  });

  it('defaults to this process, its environment and its home', () => {
    expect(defaultWorkspaceDir()).toBe(defaultWorkspaceDir(process.platform, process.env, os.homedir()));
  });
});

describe('resolveWorkspaceDir', () => {
  const home = path.join(os.tmpdir(), 'from-env');

  it('prefers the --workspace flag over MILLWRIGHT_HOME', () => {
    expect(resolveWorkspaceDir('/srv/flag-ws', { MILLWRIGHT_HOME: home })).toBe(path.resolve('/srv/flag-ws'));
  });

  it('uses MILLWRIGHT_HOME without a flag', () => {
    expect(resolveWorkspaceDir(undefined, { MILLWRIGHT_HOME: home })).toBe(home);
    expect(resolveWorkspaceDir('', { MILLWRIGHT_HOME: home })).toBe(home);
  });

  it('resolves relative choices against the working directory', () => {
    expect(resolveWorkspaceDir('rel/ws', {})).toBe(path.resolve(process.cwd(), 'rel/ws'));
    expect(resolveWorkspaceDir(undefined, { MILLWRIGHT_HOME: 'envrel' })).toBe(path.resolve(process.cwd(), 'envrel'));
  });

  it('falls back to the platform default, honouring the given environment', () => {
    const env = { XDG_DATA_HOME: '/data/x', APPDATA: 'C:\\AppData' };
    expect(resolveWorkspaceDir(undefined, env)).toBe(defaultWorkspaceDir(process.platform, env));
    expect(resolveWorkspaceDir(undefined, { ...env, MILLWRIGHT_HOME: '' })).toBe(defaultWorkspaceDir(process.platform, env));
    if (process.platform === 'linux') expect(resolveWorkspaceDir(undefined, env)).toBe('/data/x/Millwright');
  });
});

describe('currentUser', () => {
  it('is the OS user name', () => {
    expect(currentUser()).toBe(os.userInfo().username);
  });
});
