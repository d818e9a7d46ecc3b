/**
 * A stand-in for the `electron` module, the one fake the hardening tests use:
 * this machine has no Electron binary (scripts/electron-binary.cjs), so the
 * compiled main.js and preload.js are loaded with this instead. It records what
 * they ask of Electron (window options, webContents and session handlers, IPC
 * channels, what the preload exposes) so a test can drive those handlers the
 * way Electron would. Everything behind them (the core, SQLite, the contract's
 * validation) is real.
 */
import { EventEmitter } from 'node:events';
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

type Fn = (...args: never[]) => unknown;

/** An Electron event as handlers see it: preventDefault is what blocks the action. */
export interface FakeEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

export function fakeEvent(extra: Record<string, unknown> = {}): FakeEvent & Record<string, unknown> {
  return {
    ...extra,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

export class FakeWebContents extends EventEmitter {
  url = '';
  windowOpenHandler: ((details: { url: string; frameName: string; features: string; disposition: string }) => unknown) | undefined;
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  readonly mainFrame = { url: '' };

  setWindowOpenHandler(handler: FakeWebContents['windowOpenHandler']): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return false;
  }
  /** Emits like Electron does and reports whether a handler prevented the action. */
  attempt(name: string, ...args: unknown[]): boolean {
    const e = fakeEvent();
    this.emit(name, e, ...args);
    return e.defaultPrevented;
  }
}

export interface FakeElectron {
  /** What `require('electron')` returns. */
  readonly module: Record<string, unknown>;
  /** Every call into the fake, in order: "app.enableSandbox", "session.defaultSession.setPermissionRequestHandler", … */
  readonly calls: Array<{ name: string; args: unknown[] }>;
  /** Names the loaded code read from the module (`electron.ipcMain`, …). */
  readonly accessed: Set<string>;
  readonly app: EventEmitter;
  readonly windows: Array<{ options: Record<string, unknown>; webContents: FakeWebContents; loads: Array<{ kind: 'file' | 'url'; target: string }> }>;
  readonly ipcMainHandlers: Map<string, Fn>;
  /** Channels given to ipcMain.on / once / addListener (the app should use none). */
  readonly ipcMainListeners: string[];
  /** The handler each session method was given, by method name. */
  readonly sessionHandlers: Map<string, Fn>;
  readonly exposed: Array<{ key: string; api: unknown }>;
  readonly ipcRenderer: EventEmitter & { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
  /** Where the fake ipcRenderer.invoke goes (a test wires it to main's handler). */
  route: (channel: string, args: unknown[]) => Promise<unknown>;
  errorBoxes: Array<{ title: string; content: string }>;
  /** Resolves app.whenReady(). */
  ready(): void;
}

/**
 * Wraps `target` so that members it lacks become recorded no-ops instead of
 * crashes: if main.ts starts calling another Electron API, the tests still load
 * it and the call shows in `calls`.
 */
function tolerant<T extends object>(name: string, target: T, calls: FakeElectron['calls']): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'symbol' || prop === 'then' || prop in t) return Reflect.get(t, prop, receiver) as unknown;
      return (...args: unknown[]) => {
        calls.push({ name: `${name}.${prop}`, args });
      };
    },
  });
}

export function createFakeElectron(opts: { userData: string }): FakeElectron {
  const calls: FakeElectron['calls'] = [];
  const record = (name: string, args: unknown[]) => calls.push({ name, args });
  let resolveReady: () => void = () => undefined;
  const whenReady = new Promise<void>((r) => (resolveReady = r));
  let isReady = false;

  const appTarget = Object.assign(new EventEmitter(), {
    isPackaged: false,
    enableSandbox: () => record('app.enableSandbox', []),
    requestSingleInstanceLock: () => (record('app.requestSingleInstanceLock', []), true),
    whenReady: () => whenReady,
    isReady: () => isReady,
    getPath: (name: string) => (record('app.getPath', [name]), opts.userData),
    quit: () => record('app.quit', []),
    exit: (code?: number) => record('app.exit', [code]),
  });
  const app = tolerant('app', appTarget, calls);

  const windows: FakeElectron['windows'] = [];
  class BrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly loads: Array<{ kind: 'file' | 'url'; target: string }> = [];
    constructor(readonly options: Record<string, unknown>) {
      super();
      record('BrowserWindow', [options]);
      windows.push(this);
      // Electron announces every new webContents to the app.
      app.emit('web-contents-created', fakeEvent(), this.webContents);
    }
    static getAllWindows() {
      return windows;
    }
    loadFile(file: string) {
      this.loads.push({ kind: 'file', target: file });
      this.webContents.url = this.webContents.mainFrame.url = pathToFileURL(file).href;
      return Promise.resolve();
    }
    loadURL(url: string) {
      this.loads.push({ kind: 'url', target: url });
      this.webContents.url = this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    getNormalBounds() {
      return { x: 0, y: 0, width: 1400, height: 900 };
    }
    isMaximized = () => false;
    isMinimized = () => false;
    isDestroyed = () => false;
    maximize = () => record('BrowserWindow.maximize', []);
    show = () => record('BrowserWindow.show', []);
    focus = () => record('BrowserWindow.focus', []);
    restore = () => record('BrowserWindow.restore', []);
  }

  const ipcMainHandlers = new Map<string, Fn>();
  const ipcMainListeners: string[] = [];
  const ipcMain = tolerant(
    'ipcMain',
    {
      handle: (channel: string, fn: Fn) => (record('ipcMain.handle', [channel]), ipcMainHandlers.set(channel, fn)),
      handleOnce: (channel: string, fn: Fn) => (record('ipcMain.handleOnce', [channel]), ipcMainHandlers.set(channel, fn)),
      on: (channel: string) => ipcMainListeners.push(channel),
      once: (channel: string) => ipcMainListeners.push(channel),
      addListener: (channel: string) => ipcMainListeners.push(channel),
    },
    calls,
  );

  const sessionHandlers = new Map<string, Fn>();
  const handlerSetter = (prefix: string) =>
    new Proxy(
      {},
      {
        get(_t, prop) {
          if (typeof prop === 'symbol' || prop === 'then') return undefined;
          return (...args: unknown[]) => {
            record(`${prefix}.${prop}`, args);
            const fn = args.find((a): a is Fn => typeof a === 'function');
            if (fn) sessionHandlers.set(prop, fn);
          };
        },
      },
    );
  const defaultSession = new Proxy(
    { webRequest: handlerSetter('session.defaultSession.webRequest') },
    {
      get(t, prop, receiver) {
        if (prop === 'webRequest') return Reflect.get(t, prop, receiver) as unknown;
        return Reflect.get(handlerSetter('session.defaultSession'), prop) as unknown;
      },
    },
  );

  const exposed: FakeElectron['exposed'] = [];
  const fake = {} as FakeElectron;
  const ipcRenderer = Object.assign(new EventEmitter(), {
    invoke: (channel: string, ...args: unknown[]) => {
      record('ipcRenderer.invoke', [channel, ...args]);
      return fake.route(channel, args);
    },
  });
  const errorBoxes: FakeElectron['errorBoxes'] = [];

  class Notification extends EventEmitter {
    static isSupported = () => false;
    show = () => record('Notification.show', []);
  }
  class Tray extends EventEmitter {
    setContextMenu = () => undefined;
    setToolTip = () => undefined;
  }

  const members: Record<string, unknown> = {
    app,
    BrowserWindow,
    ipcMain,
    session: { defaultSession },
    dialog: tolerant('dialog', { showErrorBox: (title: string, content: string) => errorBoxes.push({ title, content }) }, calls),
    Menu: tolerant('Menu', { buildFromTemplate: (template: unknown) => ({ template }), setApplicationMenu: (m: unknown) => record('Menu.setApplicationMenu', [m]), getApplicationMenu: () => null }, calls),
    nativeImage: { createFromPath: () => ({ resize: () => ({}) }) },
    Notification,
    Tray,
    safeStorage: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    shell: tolerant('shell', {}, calls),
    contextBridge: tolerant('contextBridge', { exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }) }, calls),
    ipcRenderer,
    webUtils: { getPathForFile: (f: { path?: string; name: string }) => f.path ?? `/picked/${f.name}` },
  };
  const accessed = new Set<string>();
  const module = new Proxy(members, {
    get(t, prop) {
      if (typeof prop === 'string') accessed.add(prop);
      return t[prop as string];
    },
  });

  return Object.assign(fake, {
    module,
    calls,
    accessed,
    app,
    windows,
    ipcMainHandlers,
    ipcMainListeners,
    sessionHandlers,
    exposed,
    ipcRenderer,
    route: (channel: string) => Promise.reject(new Error(`No handler registered for '${channel}'`)),
    errorBoxes,
    ready: () => {
      isReady = true;
      resolveReady();
    },
  });
}

interface ModuleInternals {
  _resolveFilename(request: string, parent: { filename?: string } | undefined, ...rest: unknown[]): string;
  _cache: Record<string, { exports: unknown; loaded: boolean; id: string; filename: string }>;
}

/**
 * Makes Node's own `require('electron')` (vitest's transform is not involved)
 * return the fake that `fakes` picks for the requiring file, and records every
 * request made by the files that are keys of `requests`. Returns the undo.
 */
export function hookElectron(fakes: (parentFile: string) => FakeElectron | undefined, requests: Map<string, string[]>): () => void {
  const M = Module as unknown as ModuleInternals;
  const original = M._resolveFilename;
  M._resolveFilename = function (request, parent, ...rest) {
    const from = parent?.filename ?? '';
    const seen = requests.get(from);
    if (seen) seen.push(request);
    if (request === 'electron') {
      const fake = fakes(from);
      if (fake) {
        const id = `\0fake-electron:${from}`;
        M._cache[id] ??= { id, filename: id, loaded: true, exports: fake.module };
        return id;
      }
    }
    return original.call(this, request, parent, ...rest);
  };
  return () => {
    M._resolveFilename = original;
  };
}
