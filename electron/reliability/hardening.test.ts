/**
 * Issue 11, point 4: the desktop app's and server mode's defences, checked by
 * tests that fail when a defence is missing.
 *
 * - Electron: there is no Electron binary here, so the compiled main.js and
 *   preload.js are loaded with a stand-in `electron` module that records what
 *   they ask for (support/hardening-fake-electron.ts); the tests then drive the
 *   recorded handlers as Electron would. Behind them everything is real: the
 *   core on a fresh workspace, SQLite, the contract's validation.
 * - Server mode: the compiled server on loopback, attacked with real requests.
 *
 * Figures: test-results/reliability/hardening.json (shared with e2e/network-watch.spec.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API, isMethodName, type ApiClient, type AppEvent, type Envelope } from '../../shared/api';
import { ERROR_CODES } from '../../shared/errors';
import type { Core } from '../services/compose';
import type { RunningServer } from '../server';
import { transpileApp, type PrivateBuild } from './support/hardening-build';
import { writeHardeningFigures, type HardeningDetail } from './support/hardening-figures';
import { createFakeElectron, fakeEvent, hookElectron, type FakeElectron, type FakeWebContents } from './support/hardening-fake-electron';
import { describeSocket, isLoopback, procAvailable, socketsOf } from './support/hardening-sockets';

const FULL = process.env.MILLWRIGHT_RELIABILITY === 'full';
/** Generated inputs per property (URLs, method names, static paths). */
const RUNS = FULL ? 3000 : 250;
const ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------- figures

const details: HardeningDetail[] = [];
let current: HardeningDetail | undefined;

/** Counts `n` cases under the running test. */
function tally(n = 1): void {
  current!.cases += n;
}

beforeEach((ctx) => {
  const name = [ctx.task.suite?.name, ctx.task.name].filter(Boolean).join(' › ');
  current = { source: 'unit', check: name, cases: 0, ok: true };
  details.push(current);
  const mine = current;
  ctx.onTestFailed(() => {
    mine.ok = false;
  });
});

// ---------------------------------------------------------------- setup

let tmp: string;
let build: PrivateBuild;
let main: FakeElectron;
let preload: FakeElectron;
const requests = new Map<string, string[]>();
let unhook: () => void = () => undefined;
let appUrl: string;
let win: FakeElectron['windows'][number];
const savedHome = process.env.MILLWRIGHT_HOME;
const nodeRequire = createRequire(__filename);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-hardening-'));
  build = await transpileApp(tmp);
  main = createFakeElectron({ userData: path.join(tmp, 'user-data') });
  preload = createFakeElectron({ userData: path.join(tmp, 'user-data') });
  const mainJs = path.join(build.dist, 'electron', 'main.js');
  const preloadJs = path.join(build.dist, 'electron', 'preload.js');
  requests.set(preloadJs, []);
  unhook = hookElectron((from) => (from === preloadJs ? preload : from.startsWith(build.root) ? main : undefined), requests);
  // main.ts opens the workspace it is told (MILLWRIGHT_HOME when there is no --workspace).
  process.env.MILLWRIGHT_HOME = path.join(tmp, 'workspace');
  nodeRequire(mainJs);
  main.ready();
  for (const end = Date.now() + 30_000; main.windows.length === 0 && main.errorBoxes.length === 0; ) {
    if (Date.now() > end) throw new Error('main.js opened no window in 30 s.');
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(main.errorBoxes).toEqual([]);
  win = main.windows[0]!;
  appUrl = pathToFileURL(path.join(build.dist, 'renderer', 'index.html')).href;
  // The preload's ipcRenderer.invoke reaches main's handler, as from the app's window on the Data page.
  preload.route = async (channel, args) => {
    const handler = main.ipcMainHandlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return (handler as (...a: unknown[]) => unknown)(fakeEvent({ senderFrame: { url: `${appUrl}#/data` }, sender: win.webContents }), ...args);
  };
  nodeRequire(preloadJs);
}, 90_000);

afterAll(async () => {
  // Quitting closes the core (main.ts defers the quit until it has).
  if (main) {
    const e = fakeEvent();
    main.app.emit('will-quit', e);
    for (const end = Date.now() + 20_000; !main.calls.some((c) => c.name === 'app.quit') && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  }
  unhook();
  if (savedHome === undefined) delete process.env.MILLWRIGHT_HOME;
  else process.env.MILLWRIGHT_HOME = savedHome;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  writeHardeningFigures('unit', details, FULL ? 'full' : 'short');
}, 60_000);

type Handler = (...args: unknown[]) => unknown;
const handler = (name: string): Handler => {
  const h = main.sessionHandlers.get(name);
  if (!h) throw new Error(`main.ts set no ${name}.`);
  return h as Handler;
};

/** Calls main's IPC handler as Electron would for a frame showing `url`. */
function ipc(url: string | undefined, name: unknown, arg?: unknown): Promise<Envelope<unknown>> {
  const h = main.ipcMainHandlers.get('millwright:call') as Handler;
  return Promise.resolve(h(fakeEvent({ senderFrame: url === undefined ? null : { url }, sender: win.webContents }), name, arg)) as Promise<Envelope<unknown>>;
}

function expectRefused(reply: Envelope<unknown>, code: string): void {
  expect(reply.ok).toBe(false);
  if (reply.ok) return;
  expect(reply.error.code).toBe(code);
  expect(reply.error.message.length).toBeGreaterThan(0);
  expect(reply.error.message).not.toMatch(/\n\s+at /);
}

/** URLs that are not the app's page: other sites, other schemes, other local files. */
function foreignUrls(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.webUrl().map((u) => u.replace(/^https?:/, 'ws:')),
    fc.constantFrom(
      'http://127.0.0.1:8080/',
      'http://localhost/index.html',
      'file:///etc/passwd',
      'file:///C:/Windows/win.ini',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'about:blank',
      'chrome://gpu',
      'devtools://devtools/bundled/inspector.html',
    ),
    fc.stringMatching(/^[a-z0-9._-]{1,20}$/).map((name) => pathToFileURL(path.join(build.dist, 'renderer', `${name}.html`)).href),
  );
}

// ---------------------------------------------------------------- Electron: window

describe('Electron main process: the window', () => {
  it('turns on the sandbox for every renderer before the app is ready, and runs once', () => {
    const order = main.calls.map((c) => c.name);
    expect(order).toContain('app.enableSandbox');
    expect(order.indexOf('app.enableSandbox')).toBeLessThan(order.indexOf('BrowserWindow'));
    expect(order).toContain('app.requestSingleInstanceLock');
    tally(3);
  });

  it('opens one window whose webPreferences follow DESIGN.md section 11', () => {
    expect(main.windows).toHaveLength(1);
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).not.toBe(true);
    expect(prefs.nodeIntegrationInSubFrames).not.toBe(true);
    expect(prefs.webSecurity).not.toBe(false);
    expect(prefs.allowRunningInsecureContent).not.toBe(true);
    expect(prefs.webviewTag).not.toBe(true);
    expect(prefs.experimentalFeatures).not.toBe(true);
    expect(prefs.enableBlinkFeatures).toBeUndefined();
    expect(prefs.navigateOnDragDrop).not.toBe(true);
    expect(prefs.preload).toBe(path.join(build.dist, 'electron', 'preload.js'));
    expect(fs.existsSync(prefs.preload as string)).toBe(true);
    tally(13);
  });

  it('loads only its own renderer file, never a URL', () => {
    expect(win.loads).toEqual([{ kind: 'file', target: path.join(build.dist, 'renderer', 'index.html') }]);
    tally();
  });

  it('blocks navigation to anything but the app page', () => {
    expect(win.webContents.attempt('will-navigate', appUrl)).toBe(false);
    tally();
    fc.assert(
      fc.property(foreignUrls(), (url) => {
        fc.pre(url !== appUrl);
        tally();
        return win.webContents.attempt('will-navigate', url);
      }),
      { numRuns: RUNS },
    );
  });

  it('blocks redirects and webview tags', () => {
    fc.assert(
      fc.property(foreignUrls(), (url) => {
        tally();
        return win.webContents.attempt('will-redirect', url) && win.webContents.attempt('will-attach-webview', {}, { src: url });
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it('denies every new window', () => {
    const open = win.webContents.windowOpenHandler;
    expect(open).toBeTypeOf('function');
    for (const url of [appUrl, `${appUrl}#/data`]) {
      expect(open!({ url, frameName: '', features: '', disposition: 'new-window' })).toEqual({ action: 'deny' });
      tally();
    }
    fc.assert(
      fc.property(foreignUrls(), fc.constantFrom('default', 'foreground-tab', 'background-tab', 'new-window', 'other'), (url, disposition) => {
        tally();
        expect(open!({ url, frameName: '', features: '', disposition })).toEqual({ action: 'deny' });
      }),
      { numRuns: RUNS },
    );
  });

  it('applies the same defences to every webContents the app creates', () => {
    // A second webContents (a devtools pane, a window something managed to open) gets the handlers too.
    const other = new (win.webContents.constructor as new () => FakeWebContents)();
    main.app.emit('web-contents-created', fakeEvent(), other);
    expect(other.attempt('will-navigate', 'https://example.com/')).toBe(true);
    expect(other.windowOpenHandler?.({ url: 'https://example.com/', frameName: '', features: '', disposition: 'new-window' })).toEqual({ action: 'deny' });
    tally(2);
  });
});

// ---------------------------------------------------------------- Electron: session

/** Every permission name Electron 45 passes to a permission request handler. */
const PERMISSIONS = [
  'ar', 'automatic-fullscreen', 'background-fetch', 'background-sync', 'captured-surface-control', 'clipboard-read', 'clipboard-sanitized-write',
  'deprecated-sync-clipboard-read', 'display-capture', 'fileSystem', 'fullscreen', 'geolocation', 'geolocation-approximate', 'hand-tracking', 'hid',
  'idle-detection', 'keyboardLock', 'local-fonts', 'local-network', 'local-network-access', 'loopback-network', 'media', 'mediaKeySystem', 'midi',
  'midiSysex', 'nfc', 'notifications', 'openExternal', 'payment-handler', 'periodic-background-sync', 'persistent-storage', 'pointerLock',
  'screen-wake-lock', 'sensors', 'serial', 'smart-card', 'speaker-selection', 'storage-access', 'system-wake-lock', 'top-level-storage-access', 'usb',
  'vr', 'web-app-installation', 'web-printing', 'window-management', 'unknown',
];

describe('Electron main process: the session', () => {
  it('denies every permission, except clipboard writes (the Copy buttons) to the app page itself', async () => {
    const request = handler('setPermissionRequestHandler');
    const ask = (permission: string, requestingUrl: string, isMainFrame = true) =>
      new Promise<boolean>((resolve) => request(win.webContents, permission, resolve, { requestingUrl, isMainFrame }));
    for (const permission of PERMISSIONS) {
      const fromApp = permission === 'clipboard-sanitized-write';
      // The page shows its routes after a #: the frame's URL carries it.
      expect(await ask(permission, appUrl), permission).toBe(fromApp);
      expect(await ask(permission, `${appUrl}#/models/pump-failure`), permission).toBe(fromApp);
      expect(await ask(permission, appUrl, false), `${permission} from a sub-frame`).toBe(false);
      expect(await ask(permission, 'https://evil.example/'), `${permission} from another site`).toBe(false);
      expect(await ask(permission, pathToFileURL(path.join(tmp, 'other.html')).href), `${permission} from another file`).toBe(false);
      tally(5);
    }
  });

  it('cancels every request that would leave the PC; the renderer loads only local files', () => {
    const before = handler('onBeforeRequest');
    const cancelled = (url: string) => {
      let answer: { cancel?: boolean } | undefined;
      before({ url, method: 'GET', resourceType: 'xhr' }, (r: { cancel?: boolean }) => (answer = r));
      return answer?.cancel;
    };
    expect(cancelled(appUrl)).toBe(false);
    expect(cancelled(pathToFileURL(path.join(build.dist, 'renderer', 'assets', 'index.js')).href)).toBe(false);
    tally(2);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.webUrl({ withQueryParameters: true }),
          fc.webUrl().map((u) => u.replace(/^https?:/, 'wss:')),
          fc.constantFrom('http://127.0.0.1:3000/api/app.info', 'https://fonts.googleapis.com/css2?family=Inter', 'https://www.google-analytics.com/collect', 'ftp://example.com/'),
        ),
        (url) => {
          tally();
          return cancelled(url) === true;
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('puts the strict CSP on every response, replacing any the response brought', () => {
    const headers = handler('onHeadersReceived');
    for (const responseHeaders of [{}, { 'Content-Type': ['text/html'] }, { 'Content-Security-Policy': ["default-src *; script-src 'unsafe-inline' 'unsafe-eval'"] }]) {
      let out: { responseHeaders?: Record<string, string[]> } | undefined;
      headers({ url: appUrl, responseHeaders }, (r: typeof out) => (out = r));
      const csp = Object.entries(out?.responseHeaders ?? {}).filter(([k]) => k.toLowerCase() === 'content-security-policy');
      expect(csp.map(([, v]) => v)).toEqual([[serverCsp()]]);
      tally();
    }
    expectStrict(serverCsp());
  });
});

// ---------------------------------------------------------------- Electron: IPC

describe('Electron main process: IPC', () => {
  it('registers one channel, millwright:call, and listens on no other', () => {
    expect([...main.ipcMainHandlers.keys()]).toEqual(['millwright:call']);
    expect(main.ipcMainListeners).toEqual([]);
    tally(2);
  });

  it('answers only the app page (on any of its routes), never another frame', async () => {
    for (const url of [appUrl, `${appUrl}#/data`, `${appUrl}#/models/pump-failure/3`]) {
      const reply = await ipc(url, 'app.info', {});
      expect(reply, url).toMatchObject({ ok: true, value: { workspace: path.join(tmp, 'workspace') } });
      tally();
    }
    for (const url of [undefined, '', 'https://evil.example/', 'http://127.0.0.1:5173/', `${appUrl}x`, `${appUrl}/`, `${appUrl}?x=1`, pathToFileURL(path.join(tmp, 'index.html')).href, 'about:blank']) {
      expectRefused(await ipc(url, 'app.info', {}), 'forbidden');
      tally();
    }
  });

  it('refuses method names that are not in the contract with unknown_method', async () => {
    const fixed: unknown[] = ['models.explode', '', ' app.info', 'APP.INFO', 'app.info\0', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 42, null, undefined, true, {}, ['app.info'], { toString: () => 'app.info' }];
    for (const name of fixed) {
      expectRefused(await ipc(appUrl, name, {}), 'unknown_method');
      tally();
    }
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.anything()), async (name) => {
        fc.pre(!isMethodName(name));
        tally();
        expectRefused(await ipc(appUrl, name, {}), 'unknown_method');
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses an argument of the wrong shape for every method in the contract, before any handler runs', async () => {
    const jobs = async () => ((await ipc(appUrl, 'jobs.list', {})) as { value: unknown[] }).value.length;
    const before = await jobs();
    const names = Object.keys(API);
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) {
      for (const arg of [42, 'x', [], true, null]) {
        const reply = await ipc(appUrl, name, arg);
        expectRefused(reply, 'bad_input');
        tally();
      }
    }
    // Wrong types and unknown fields name the field.
    const limit = await ipc(appUrl, 'jobs.list', { limit: 'x' });
    expectRefused(limit, 'bad_input');
    expect(!limit.ok && limit.error.field).toBe('limit');
    const extra = await ipc(appUrl, 'app.info', { sneaky: 1 });
    expectRefused(extra, 'bad_input');
    expect(!extra.ok && extra.error.field).toBe('sneaky');
    tally(2);
    // No refused call started a job.
    expect(await jobs()).toBe(before);
    tally();
  });

  it('does not let an argument pollute prototypes', async () => {
    for (const raw of ['{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"limit":1,"__proto__":{"polluted":1}}']) {
      const reply = await ipc(appUrl, 'jobs.list', JSON.parse(raw) as unknown);
      expect(reply.ok === false || Array.isArray(reply.value)).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
      tally();
    }
  });

  it('answers every call with the envelope and a known error code, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(API)), fc.oneof(fc.object(), fc.anything()), async (name, arg) => {
        // Only methods that read: arbitrary arguments must not delete or start anything here.
        fc.pre(/\.(list|get|info|status|settings|describe|preview|history)$/.test(name));
        tally();
        const reply = await ipc(appUrl, name, arg);
        expect(typeof reply.ok).toBe('boolean');
        if (!reply.ok) expect(ERROR_CODES).toContain(reply.error.code);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- Electron: preload

describe('Electron preload', () => {
  const bridge = () => preload.exposed[0]!.api as ApiClient;

  it('exposes exactly one object, window.millwright, with the ApiClient members', () => {
    expect(preload.exposed.map((e) => e.key)).toEqual(['millwright']);
    expect(Object.keys(bridge()).sort()).toEqual(['call', 'fileRef', 'on', 'transport']);
    expect(bridge().transport).toBe('ipc');
    expect(preload.calls.filter((c) => c.name.startsWith('contextBridge.'))).toEqual([]);
    tally(4);
  });

  it('leaks no ipcRenderer, not in what it exposes nor in what listeners receive', () => {
    const seen = new Set<unknown>();
    const walk = (v: unknown, depth: number): void => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 4) return;
      seen.add(v);
      expect(v).not.toBe(preload.ipcRenderer);
      for (const k of Object.getOwnPropertyNames(v)) walk((v as Record<string, unknown>)[k], depth + 1);
    };
    walk(bridge(), 0);
    expect([...seen].some((v) => v === preload.ipcRenderer.invoke || v === preload.ipcRenderer.on || v === preload.ipcRenderer.emit)).toBe(false);
    tally(2);
    // A listener gets the event and nothing else: the IPC event object carries the sender.
    const got: unknown[][] = [];
    const off = bridge().on('job', (...args: unknown[]) => got.push(args));
    const job = { type: 'job', job: { id: 'job_1' } } as unknown as AppEvent;
    preload.ipcRenderer.emit('millwright:event', { sender: preload.ipcRenderer, senderId: 0 }, job);
    preload.ipcRenderer.emit('millwright:event', { sender: preload.ipcRenderer, senderId: 0 }, { type: 'notice', level: 'info', message: 'x' });
    expect(got).toEqual([[job]]);
    off();
    expect(preload.ipcRenderer.listenerCount('millwright:event')).toBe(0);
    tally(2);
  });

  it('accepts listeners only for the event types the contract defines', () => {
    const known: AppEvent['type'][] = ['job', 'notice', 'command', 'alert', 'monitor', 'prompt', 'feedback', 'recording'];
    for (const type of known) {
      const off = bridge().on(type, () => undefined);
      off();
      tally();
    }
    for (const type of ['', 'JOB', 'millwright:event', '__proto__', 'constructor', 'toString', 'job ', 42, null, undefined, {}]) {
      expect(() => bridge().on(type as AppEvent['type'], () => undefined), String(type)).toThrow();
      tally();
    }
    expect(() => bridge().on('job', 'not a function' as unknown as () => void)).toThrow();
    expect(preload.ipcRenderer.listenerCount('millwright:event')).toBe(0);
    tally(2);
  });

  it('calls through the one channel and turns refusals into errors with their code', async () => {
    const before = preload.calls.filter((c) => c.name === 'ipcRenderer.invoke').length;
    const info = (await bridge().call('app.info', {})) as { workspace: string };
    expect(info.workspace).toBe(path.join(tmp, 'workspace'));
    await expect(bridge().call('jobs.list', { limit: 'x' } as never)).rejects.toMatchObject({ code: 'bad_input', field: 'limit' });
    await expect(bridge().call('models.explode' as never, {} as never)).rejects.toMatchObject({ code: 'unknown_method' });
    const invokes = preload.calls.filter((c) => c.name === 'ipcRenderer.invoke').slice(before);
    expect(invokes.map((c) => c.args[0])).toEqual(['millwright:call', 'millwright:call', 'millwright:call']);
    tally(4);
  });

  it('is used by main.ts as the window preload and only from there', () => {
    const mainSource = fs.readFileSync(path.join(ROOT, 'electron', 'main.ts'), 'utf8');
    expect(mainSource).toMatch(/preload: path\.join\(__dirname, 'preload\.js'\)/);
    // Only main.ts and preload.ts import electron (services never do).
    const importers = listTs(path.join(ROOT, 'electron')).filter((f) => /from 'electron'|require\('electron'\)/.test(fs.readFileSync(f, 'utf8')));
    expect(importers.map((f) => path.relative(ROOT, f)).sort()).toEqual(['electron/main.ts', 'electron/preload.ts']);
    tally(2);
  });
  it('loads nothing but electron (a sandboxed preload cannot) and uses only renderer APIs', () => {
    expect(requests.get(path.join(build.dist, 'electron', 'preload.js'))).toEqual(['electron']);
    // Read after the calls above, so the members used at call time are in.
    const used = [...preload.accessed].filter((n) => n !== '__esModule');
    expect(used).toEqual(expect.arrayContaining(['contextBridge', 'ipcRenderer']));
    for (const name of used) expect(['contextBridge', 'ipcRenderer', 'webUtils'], name).toContain(name);
    tally(2);
  });
});

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'reliability' ? [] : listTs(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

// ---------------------------------------------------------------- CSP

let cspCache: string | undefined;
function serverCsp(): string {
  return (cspCache ??= (nodeRequire(path.join(build.dist, 'electron', 'server.js')) as typeof import('../server')).CSP);
}

function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** A CSP that lets the page load and connect to nothing but its own files, with no inline code. */
function expectStrict(csp: string, opts: { meta?: boolean } = {}): void {
  const d = directives(csp);
  expect(d.get('default-src')).toEqual(["'none'"]);
  for (const [name, values] of d) {
    for (const v of values) {
      expect(v, `${name} ${v}`).not.toMatch(/^\*|^'unsafe-|^https?:|^wss?:|^blob:|^filesystem:|^'wasm-unsafe-eval'|^'strict-dynamic'/);
      if (v === 'data:') expect(name, 'data: only for images').toBe('img-src');
    }
  }
  expect(d.get('script-src')).toEqual(["'self'"]);
  expect(d.get('connect-src')).toEqual(["'self'"]);
  expect(d.get('base-uri')).toEqual(["'none'"]);
  expect(d.get('form-action')).toEqual(["'none'"]);
  for (const loose of ['object-src', 'frame-src', 'child-src', 'worker-src']) expect(d.has(loose), loose).toBe(false);
  if (!opts.meta) expect(d.get('frame-ancestors')).toEqual(["'none'"]);
  tally(8);
}

describe('content security policy', () => {
  it('is strict in the HTTP header the server and the Electron session send', () => {
    expectStrict(serverCsp());
  });

  it('is in the page itself (file:// responses carry no headers), with the same directives', () => {
    const pages = [path.join(ROOT, 'renderer', 'index.html'), path.join(ROOT, 'dist', 'renderer', 'index.html')].filter((f) => fs.existsSync(f));
    for (const page of pages) {
      const html = fs.readFileSync(page, 'utf8');
      const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1];
      expect(meta, page).toBeDefined();
      expectStrict(meta!, { meta: true });
      const header = directives(serverCsp());
      header.delete('frame-ancestors'); // ignored in a meta tag
      expect(directives(meta!)).toEqual(header);
      // No inline script or style, no resource from elsewhere.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/<style\b|\son[a-z]+=/i);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
      tally(4);
    }
  });
});

// ---------------------------------------------------------------- server mode

describe('server mode', () => {
  let core: Core;
  let server: RunningServer;
  let rendererDir: string;
  const SECRET = 'SECRET-BESIDE-THE-RENDERER';
  const INDEX = '<!doctype html><title>hardening shell</title>';
  const acao: string[] = [];

  interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
  }
  function request(method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method, path: urlPath, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.headers['access-control-allow-origin'] !== undefined) acao.push(`${method} ${urlPath}`);
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
  /** A raw request line and headers, for what http.request will not send (no Host, absolute form). */
  function raw(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.end(text));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
  }
  const auth = () => ({ Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' });
  const host = () => `127.0.0.1:${server.port}`;

  beforeAll(async () => {
    const { startServer } = nodeRequire(path.join(build.dist, 'electron', 'server.js')) as typeof import('../server');
    const { createCore } = nodeRequire(path.join(build.dist, 'electron', 'services', 'compose.js')) as typeof import('../services/compose');
    const root = path.join(tmp, 'server');
    rendererDir = path.join(root, 'renderer');
    fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(rendererDir, 'index.html'), INDEX);
    fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'secret.txt'), SECRET);
    core = createCore({ workspaceDir: path.join(root, 'workspace') });
    fs.mkdirSync(path.join(core.ws.dir, 'exports'), { recursive: true });
    fs.writeFileSync(path.join(core.ws.dir, 'exports', 'scored.csv'), 'a,b\n1,2\n');
    server = await startServer({ core, rendererDir });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await core?.close();
  });

  it('binds 127.0.0.1 by default with a fresh random token each start', async () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const { startServer } = nodeRequire(path.join(build.dist, 'electron', 'server.js')) as typeof import('../server');
    const again = await startServer({ core, rendererDir });
    expect(again.token).not.toBe(server.token);
    await again.close();
    tally(3);
    if (procAvailable()) {
      const listening = socketsOf(process.pid).filter((s) => s.state === 'LISTEN' && s.localPort === server.port);
      expect(listening.map(describeSocket)).toHaveLength(1);
      expect(listening[0]!.local).toBe('127.0.0.1');
      tally();
    }
    // Not reachable through this PC's other addresses.
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of outside.slice(0, 3)) {
      const err = await new Promise<string>((resolve) => {
        const s = net.connect(server.port, address, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(err, address).toBe('ECONNREFUSED');
      tally();
    }
  });

  it('refuses every API path without the right token with 401, before doing anything', async () => {
    const wrong = ['', 'Bearer', 'Bearer ', `Bearer ${'x'.repeat(server.token.length)}`, `Bearer ${server.token}x`, `Bearer ${server.token.slice(1)}`, `bearer-${server.token}`, `Basic ${Buffer.from(`u:${server.token}`).toString('base64')}`, `Bearer ${server.token.toUpperCase()}`];
    for (const authorization of wrong) {
      const r = await request('POST', '/api/app.info', { Authorization: authorization, 'Content-Type': 'application/json' }, '{}');
      expect(r.status, authorization).toBe(401);
      expect((JSON.parse(r.body) as Envelope<unknown>).ok).toBe(false);
      tally();
    }
    const uploads = path.join(core.ws.dir, 'tmp', 'uploads');
    const anyUploads = () => fs.existsSync(uploads) && fs.readdirSync(uploads).length > 0;
    for (const [method, p] of [
      ['POST', '/api/system.check'],
      ['POST', '/api/datasets.delete'],
      ['GET', '/api/events'],
      ['GET', '/api/events?token=nope'],
      ['GET', '/api/download?file=scored.csv'],
      ['POST', '/api/upload?name=evil.csv'],
      ['POST', `/api/upload?name=evil.csv&token=${'x'.repeat(server.token.length)}`],
      ['OPTIONS', '/api/app.info'],
      ['HEAD', '/api/app.info'],
      ['PUT', '/api/app.info'],
    ] as const) {
      const r = await request(method, p, { 'Content-Type': 'application/json' }, method === 'GET' || method === 'HEAD' ? undefined : '{"seconds":1}');
      expect(r.status, `${method} ${p}`).toBe(401);
      expect(r.body).not.toContain('a,b');
      tally();
    }
    expect(anyUploads()).toBe(false);
    const jobs = core.ws.db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number };
    expect(jobs.n).toBe(0);
    tally(2);
    // The right token gets through, in the header or (for EventSource and links) in the query.
    expect((await request('POST', '/api/app.info', auth(), '{}')).status).toBe(200);
    expect((await request('GET', `/api/download?file=scored.csv&token=${server.token}`)).status).toBe(200);
    tally(2);
  });

  it('refuses requests from other origins with 403, even with the token', async () => {
    const p = server.port;
    const origins = [
      'http://evil.example',
      'https://evil.example',
      'null',
      'file://',
      `http://127.0.0.1:${p}.evil.example`,
      `http://localhost.evil.example:${p}`,
      `http://127.0.0.1:${p + 1}`,
      `http://evil.example/127.0.0.1:${p}`,
      `http://127.0.0.1.nip.io:${p}`,
      `http://[::ffff:7f00:1]:${p}`,
      'http://0.0.0.0:' + p,
    ];
    for (const origin of origins) {
      for (const [method, path_, body] of [
        ['POST', '/api/app.info', '{}'],
        ['GET', `/api/events?token=${server.token}`, undefined],
        ['POST', '/api/upload?name=x.csv', 'a,b'],
      ] as const) {
        const r = await request(method, path_, { ...auth(), Origin: origin }, body);
        expect(r.status, `${origin} ${path_}`).toBe(403);
        tally();
      }
    }
    const uploads = path.join(core.ws.dir, 'tmp', 'uploads');
    expect(fs.existsSync(uploads) ? fs.readdirSync(uploads) : []).toEqual([]);
    tally();
    for (const site of ['cross-site']) {
      const r = await request('POST', '/api/app.info', { ...auth(), 'Sec-Fetch-Site': site }, '{}');
      expect(r.status).toBe(403);
      tally();
    }
    // Its own page is let in.
    for (const origin of [`http://127.0.0.1:${p}`, `http://localhost:${p}`]) {
      expect((await request('POST', '/api/app.info', { ...auth(), Origin: origin, 'Sec-Fetch-Site': 'same-origin' }, '{}')).status).toBe(200);
      tally();
    }
    expect(acao).toEqual([]);
    tally();
  });

  it('refuses host names other than its own (DNS rebinding) on every path', async () => {
    const p = server.port;
    const hosts = [`evil.example:${p}`, 'evil.example', '127.0.0.1', `127.0.0.1:${p + 1}`, `localhost.evil.example:${p}`, `127.0.0.1.nip.io:${p}`, `127.0.0.1:${p}@evil.example`, `evil.example:${p}#127.0.0.1:${p}`, `${os.hostname()}:${p}`];
    for (const h of hosts) {
      for (const [method, p_, body] of [
        ['GET', '/', undefined],
        ['GET', '/assets/app.js', undefined],
        ['POST', '/api/app.info', '{}'],
        ['GET', `/api/download?file=scored.csv&token=${server.token}`, undefined],
      ] as const) {
        const r = await request(method, p_, { ...auth(), Host: h }, body);
        expect(r.status, `Host ${h} ${p_}`).toBe(403);
        expect(r.body).not.toContain('hardening shell');
        expect(r.body).not.toContain('a,b');
        tally();
      }
    }
    // HTTP/1.0 without any Host header.
    const noHost = await raw('GET / HTTP/1.0\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.[01] 4\d\d/);
    expect(noHost).not.toContain('hardening shell');
    tally();
    expect((await request('GET', '/', { Host: `LOCALHOST:${p}` })).status).toBe(200);
    tally();
  });

  it('never serves a file outside the renderer folder, however the path is written', async () => {
    const attempts = [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/.%2e/secret.txt',
      '/%2e./secret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%5csecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%252e%252e/secret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/..%00/secret.txt',
      '/index.html%00/../../secret.txt',
      '//../secret.txt',
      '/..;/secret.txt',
      `/${'../'.repeat(12)}etc/passwd`,
      `/${'%2e%2e%2f'.repeat(12)}etc/passwd`,
      `/${path.join(tmp, 'server', 'secret.txt')}`,
    ];
    const check = (r: Reply, label: string) => {
      expect([200, 400, 404], label).toContain(r.status);
      if (r.status === 200) expect([INDEX, 'console.log(1)'], label).toContain(r.body);
      expect(r.body, label).not.toContain(SECRET);
      expect(r.body, label).not.toMatch(/root:.*:0:0:/);
    };
    for (const p of attempts) {
      check(await request('GET', p), p);
      tally();
    }
    // The absolute form of the request line, which a proxy would send.
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt']) {
      const r = await raw(`GET http://${host()}${p} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
      expect(r).not.toContain(SECRET);
      tally();
    }
    const segment = fc.constantFrom('..', '%2e%2e', '.%2e', '%2e.', '.', '%2f', '%5c', '..%2f', '..%5c', '%252e%252e', 'secret.txt', 'assets', 'index.html', 'etc', 'passwd', '%00', '');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 8 }), async (parts) => {
        const p = '/' + parts.join('/');
        tally();
        check(await request('GET', p), p);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    // A download names a file in the exports folder, nothing else.
    for (const file of ['../workspace.db', '../../secret.txt', '..%2fsecret.txt', '/etc/passwd', 'exports/../../secret.txt']) {
      const r = await request('GET', `/api/download?file=${encodeURIComponent(file)}`, auth());
      expect(r.status, file).toBe(404);
      tally();
    }
  });

  it('sends the CSP with every HTML answer', async () => {
    const csp = serverCsp();
    const paths = ['/', '/index.html', '/data', '/models/pump-failure/3', '/settings?tab=workspace', '/%E2%9C%93', '/deployments/'];
    for (const p of paths) {
      for (const method of ['GET', 'HEAD']) {
        const r = await request(method, p);
        expect(r.status, p).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/html/);
        expect(r.headers['content-security-policy'], p).toBe(csp);
        expect(r.headers['x-frame-options']).toBe('DENY');
        tally();
      }
    }
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 4 }), async (parts) => {
        const r = await request('GET', '/' + parts.join('/'));
        tally();
        if (/^text\/html/.test(String(r.headers['content-type']))) expect(r.headers['content-security-policy']).toBe(csp);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it('compares tokens in constant time (source check) in server mode and the edge runtime', () => {
    const lenient = (src: string) => /(===?|!==?)\s*(token|adminToken|expected|secret)\b|\b(token|adminToken|secret)\s*(===?|!==?)\s*(?!null\b|undefined\b)[\w.]+|\.(startsWith|includes|indexOf)\((token|adminToken)\)/.test(src);
    // The check itself catches the usual mistakes.
    expect(lenient('if (given === token) ok();')).toBe(true);
    expect(lenient('if (bearer.startsWith(token)) ok();')).toBe(true);
    const server = fs.readFileSync(path.join(ROOT, 'electron', 'server.ts'), 'utf8');
    expect(server).toMatch(/crypto\.timingSafeEqual\(digest\(given\), tokenDigest\)/);
    expect(lenient(server.replace(/typeof given === 'string'/, ''))).toBe(false);
    const edge = fs.readFileSync(path.join(ROOT, 'resources', 'runtime', 'lib', 'state.js'), 'utf8');
    expect(edge).toMatch(/timingSafeEqual\(digest\(/);
    tally(5);
  });

  it('the CLI serve-app listens on 127.0.0.1 only unless told otherwise', async () => {
    const child = spawn(process.execPath, [build.bin, 'serve-app', '--port', '0', '--json', '--workspace', path.join(tmp, 'serve-ws')], {
      env: { ...process.env, HOME: path.join(tmp, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const first = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`serve-app exited with ${code}: ${stderr}`)));
        setTimeout(() => reject(new Error(`serve-app did not start in 40 s: ${stderr}`)), 40_000).unref();
      });
      const info = JSON.parse(first) as { url: string; open: string };
      expect(new URL(info.url).hostname).toBe('127.0.0.1');
      expect(new URL(info.open).searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      tally(2);
      if (procAvailable()) {
        const listening = socketsOf(child.pid!).filter((s) => s.state === 'LISTEN');
        expect(listening.length).toBeGreaterThan(0);
        for (const s of listening) expect(isLoopback(s.local), describeSocket(s)).toBe(true);
        const outgoing = socketsOf(child.pid!).filter((s) => s.state !== 'LISTEN' && !isLoopback(s.remote) && s.remote !== '0.0.0.0' && s.remote !== '::');
        expect(outgoing.map(describeSocket)).toEqual([]);
        tally(2);
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
