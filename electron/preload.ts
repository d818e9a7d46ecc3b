/**
 * The only bridge between the sandboxed renderer and the app. It exposes one
 * object, `window.millwright`, implementing the ApiClient contract. Sandboxed
 * preloads cannot load our other files, so this imports types only; the main
 * process validates every call against the contract's schemas.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiClient, AppEvent, Envelope } from '../shared/api';

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
