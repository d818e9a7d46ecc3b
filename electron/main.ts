/**
 * Electron's main process: one window, the application menu, and the IPC
 * adapter into the core services. Only this file and preload.ts import electron.
 */
import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, safeStorage, session, shell, Tray, type MenuItemConstructorOptions } from 'electron';
import type { AppEvent } from '../shared/api';
import type { Alert } from '../shared/monitor';
import type { FeedbackSettings } from '../shared/feedback';
import { COMMANDS, type CommandDef } from '../shared/commands';
import { createCore, type Core } from './services/compose';
import { appRoot } from './services/app/app-root';
import { resolveWorkspaceDir } from './services/workspace/location';
import { safeStorageSealer } from './services/recording/secrets';
import { CSP } from './server';
import { toErrorInfo } from '../shared/errors';

const RENDERER = path.join(__dirname, '..', 'renderer', 'index.html');
const RENDERER_URL = new URL(`file://${RENDERER.split(path.sep).join('/')}`).href;

/**
 * The app's own page, on whichever of its routes (the part after #) it shows:
 * the renderer routes by pushing hashes, and a frame's URL carries them.
 */
function isAppPage(url: string | undefined): boolean {
  return typeof url === 'string' && url.split('#')[0] === RENDERER_URL;
}

let core: Core | undefined;
let win: BrowserWindow | undefined;

function workspaceFlag(): string | undefined {
  const i = process.argv.indexOf('--workspace');
  return i >= 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith('--workspace='))?.split('=')[1];
}

interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

function stateFile(): string {
  return path.join(app.getPath('userData'), 'window-state.json');
}

function loadWindowState(): WindowState {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as WindowState;
    if (s.width >= 800 && s.height >= 560) return s;
  } catch {
    // First start, or an unreadable file: use the default size.
  }
  return { width: 1400, height: 900 };
}

function saveWindowState(w: BrowserWindow): void {
  const b = w.getNormalBounds();
  try {
    fs.mkdirSync(path.dirname(stateFile()), { recursive: true });
    fs.writeFileSync(stateFile(), JSON.stringify({ ...b, maximized: w.isMaximized() }));
  } catch {
    // Remembering the size is a convenience; never block closing on it.
  }
}

function send(event: AppEvent): void {
  if (win && !win.isDestroyed()) win.webContents.send('millwright:event', event);
}

function buildMenu(): void {
  const item = (c: CommandDef): MenuItemConstructorOptions => ({
    label: c.label,
    accelerator: c.accelerator,
    click: () => send({ type: 'command', id: c.id }),
  });
  const of = (menu: CommandDef['menu']) => COMMANDS.filter((c) => c.menu === menu).map(item);
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { label: '&File', submenu: [...of('file'), { type: 'separator' }, isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        ...of('view'),
        { type: 'separator' },
        { role: 'reload' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { label: '&Go', submenu: of('go') },
    {
      label: '&Help',
      submenu: [
        ...of('help'),
        { label: 'Open Workspace Folder', click: () => core && void shell.openPath(core.ws.dir) },
        { label: 'Open Log Folder', click: () => core && void shell.openPath(core.ws.logDir) },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(): void {
  const state = loadWindowState();
  win = new BrowserWindow({
    ...state,
    minWidth: 960,
    minHeight: 640,
    title: 'Millwright',
    show: false,
    backgroundColor: '#f4f5f7',
    webPreferences: {
      preload: path.join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win?.show());
  win.on('close', () => win && saveWindowState(win));
  void win.loadFile(RENDERER);
}

function hardenContents(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (url !== RENDERER_URL) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // The Copy buttons' navigator.clipboard.writeText asks for clipboard-sanitized-write:
  // the app's own page gets that, and nothing else is granted to anyone.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(permission === 'clipboard-sanitized-write' && details.isMainFrame && isAppPage(details.requestingUrl)),
  );
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    // The renderer loads only its own files; the app makes no other network call.
    callback({ cancel: !details.url.startsWith('file://') && !details.url.startsWith('devtools://') });
  });
}

function registerIpc(c: Core): void {
  ipcMain.handle('millwright:call', async (event, name: unknown, arg: unknown) => {
    if (!isAppPage(event.senderFrame?.url)) {
      return { ok: false, error: { code: 'forbidden', message: 'Calls are accepted only from the Millwright window.' } };
    }
    return c.call(name, arg);
  });
  c.events.on('event', send);
}

/**
 * A newly fired alert as an operating-system notification, when the person
 * wants them (Settings); clicking it opens the Monitoring page. Cleared and
 * acknowledged alerts make no noise; a snoozed one speaks again when its
 * snooze ends, if it still fires.
 */
function notifyAlerts(c: Core): void {
  const show = (a: Alert) => {
    if (!Notification.isSupported() || !c.monitor.settings().notifications) return;
    const n = new Notification({ title: `Millwright: ${a.endpoint}`, body: a.message });
    n.on('click', () => {
      showWindow();
      send({ type: 'command', id: 'go.monitoring' });
    });
    n.show();
  };
  const snoozes = new Map<number, NodeJS.Timeout>();
  c.events.on('event', (e) => {
    if (e.type !== 'alert') return;
    const a = e.alert;
    clearTimeout(snoozes.get(a.id));
    snoozes.delete(a.id);
    const snoozedFor = a.snoozedUntil ? Date.parse(a.snoozedUntil) - Date.now() : 0;
    if (a.state !== 'firing' || a.acknowledgedAt) return;
    if (snoozedFor > 0) {
      // When the snooze ends, an alert still firing and not acknowledged speaks again.
      snoozes.set(
        a.id,
        setTimeout(() => {
          snoozes.delete(a.id);
          if (!c.ws.db.open) return;
          const now = c.monitor.listAlerts({ endpoint: a.endpoint }).find((x) => x.id === a.id);
          if (now && !now.acknowledgedAt) show(now);
        }, Math.min(snoozedFor, 2 ** 31 - 1)).unref(),
      );
    } else if (a.firstAt === a.lastAt) show(a);
  });
}

/**
 * A due prompt (shift start) as an operating-system notification, when the
 * person wants them (Settings › Feedback); clicking it opens the Inbox.
 */
function notifyPrompts(c: Core): void {
  c.events.on('event', (e) => {
    if (e.type !== 'prompt' || e.due === 0 || !Notification.isSupported()) return;
    void c.call('feedback.settings', {}).then((r) => {
      if (!r.ok || !(r.value as FeedbackSettings).notifications) return;
      const n = new Notification({ title: 'Millwright: questions waiting', body: e.message });
      n.on('click', () => {
        showWindow();
        send({ type: 'command', id: 'go.inbox' });
      });
      n.show();
    });
  });
}

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => {
  if (app.isReady()) showWindow();
});

void app.whenReady().then(() => {
  try {
    // Source passwords are sealed by the OS keychain through safeStorage (the workspace key where the OS offers none).
    core = createCore({ workspaceDir: resolveWorkspaceDir(workspaceFlag()), electronVersion: process.versions.electron ?? null, sealer: safeStorageSealer(safeStorage) });
  } catch (err) {
    dialog.showErrorBox('Millwright cannot open its workspace', toErrorInfo(err).message);
    app.exit(2);
    return;
  }
  hardenContents();
  registerIpc(core);
  notifyAlerts(core);
  notifyPrompts(core);
  buildMenu();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

let tray: Tray | null = null;

/** Opens the window again (from the tray, a notification or a second start). */
function showWindow(): void {
  if (!win || win.isDestroyed()) createWindow();
  else {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
}

/**
 * Closing the last window while endpoints are registered keeps the app (and
 * its monitoring, DESIGN.md section 10) running in the background, with an
 * icon in the notification area to open it again or quit. Told once, the
 * first time.
 */
async function keepWatching(c: Core): Promise<boolean> {
  const endpoints = (await c.handlers['endpoints.list']({})).length;
  if (endpoints === 0) return false;
  const words = `Millwright keeps watching ${endpoints === 1 ? '1 endpoint' : `${endpoints} endpoints`} in the background.`;
  if (!tray) {
    tray = new Tray(nativeImage.createFromPath(path.join(appRoot(), 'resources', 'icon.png')).resize({ width: 16, height: 16 }));
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Millwright', click: showWindow },
        { type: 'separator' },
        { label: 'Quit Millwright (monitoring stops)', role: 'quit' },
      ]),
    );
    tray.on('click', showWindow);
    if (Notification.isSupported()) new Notification({ title: 'Millwright', body: `${words} Open it or quit from its icon in the notification area.` }).show();
  }
  tray.setToolTip(words);
  return true;
}

app.on('window-all-closed', () => {
  if (!core) {
    app.quit();
    return;
  }
  void keepWatching(core).then(
    (kept) => {
      if (!kept && process.platform !== 'darwin') app.quit();
    },
    () => app.quit(),
  );
});

let quitting = false;
app.on('will-quit', (event) => {
  if (quitting || !core) return;
  quitting = true;
  event.preventDefault();
  void core.close().finally(() => app.quit());
});
