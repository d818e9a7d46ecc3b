/**
 * The only bridge between the sandboxed renderer and the app. It exposes one
 * object, `window.millwright`, implementing the ApiClient contract. Sandboxed
 * preloads cannot load our other files, so this imports types only; the main
 * process validates every call against the contract's schemas.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiClient, AppEvent, Envelope } from '../shared/api';

/** The event types the core pushes; the Record makes the compiler ask for a new one here. */
const EVENT_TYPES: Record<AppEvent['type'], true> = { job: true, notice: true, command: true, alert: true, monitor: true, prompt: true, feedback: true, recording: true };

const client: ApiClient = {
  transport: 'ipc',
  async call(name, arg) {
    const reply = (await ipcRenderer.invoke('millwright:call', name, arg)) as Envelope<never>;
    if (reply.ok) return reply.value;
    throw Object.assign(new Error(reply.error.message), reply.error);
  },
  async fileRef(file) {
    // The desktop app reads the file where it is; nothing is copied.
    return { path: webUtils.getPathForFile(file), fileName: file.name, sizeBytes: file.size };
  },
  on(type, listener) {
    // The page is not trusted to name events: anything else is a mistake, said at once.
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(EVENT_TYPES, type)) throw new TypeError(`There is no app event called "${String(type).slice(0, 80)}".`);
    if (typeof listener !== 'function') throw new TypeError('An app event listener must be a function.');
    const wrapped = (_e: IpcRendererEvent, event: AppEvent) => {
      if (event.type === type) listener(event as never);
    };
    ipcRenderer.on('millwright:event', wrapped);
    return () => {
      ipcRenderer.removeListener('millwright:event', wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('millwright', client);
