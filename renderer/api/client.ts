import type { ApiClient, AppEvent, Envelope } from '../../shared/api';
import type { ErrorInfo } from '../../shared/errors';

declare global {
  interface Window {
    /** Provided by Electron's preload script; absent in a browser. */
    millwright?: ApiClient;
  }
}

/** An error from the core, carrying its code and the sentence to show. */
export class ApiError extends Error implements ErrorInfo {
  constructor(
    readonly code: ErrorInfo['code'],
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'millwright.token';

/**
 * Picks the transport: Electron's preload object when present, otherwise HTTP
 * to the server that served this page, with the token from the link.
 * Returns null when the page was opened without its access key.
 */
export function createClient(): ApiClient | null {
  if (window.millwright) return wrapIpc(window.millwright);
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    // Keep the key out of the address bar, history and screenshots.
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  const token = fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
  return token ? httpClient(token) : null;
}

function wrapIpc(inner: ApiClient): ApiClient {
  return {
    transport: 'ipc',
    call: async (name, arg) => {
      try {
        return await inner.call(name, arg);
      } catch (err) {
        const e = err as Partial<ErrorInfo> & Error;
        throw new ApiError(e.code ?? 'internal', e.message.replace(/^Error invoking remote method '[^']+': (Error: )?/, ''), e.field);
      }
    },
    on: (type, listener) => inner.on(type, listener),
    fileRef: (file, onProgress) => inner.fileRef(file, onProgress),
  };
}

const EVENT_TYPES: Record<AppEvent['type'], true> = { job: true, notice: true, command: true, alert: true, monitor: true, prompt: true, feedback: true, recording: true };

function httpClient(token: string): ApiClient {
  const listeners = new Map<string, Set<(e: AppEvent) => void>>();
  let source: EventSource | null = null;
  const ensureStream = () => {
    if (source) return;
    source = new EventSource(`./api/events?token=${encodeURIComponent(token)}`);
    // Every AppEvent type: one left out here never reaches a page in server mode, so the record must name them all.
    for (const type of Object.keys(EVENT_TYPES) as AppEvent['type'][]) {
      source.addEventListener(type, (msg) => {
        const event = JSON.parse((msg as MessageEvent<string>).data) as AppEvent;
        listeners.get(type)?.forEach((l) => l(event));
      });
    }
  };
  return {
    transport: 'http',
    async call(name, arg) {
      let res: Response;
      try {
        res = await fetch(`./api/${name}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(arg ?? {}),
        });
      } catch {
        throw new ApiError('io', 'Millwright is not answering. Check that "millwright serve-app" is still running, then reload this page.');
      }
      let reply: Envelope<never>;
      try {
        reply = (await res.json()) as Envelope<never>;
      } catch {
        throw new ApiError('internal', `Millwright answered with an unexpected reply (HTTP ${res.status}).`);
      }
      if (reply.ok) return reply.value;
      throw new ApiError(reply.error.code, reply.error.message, reply.error.field);
    },
    fileRef(file, onProgress) {
      // A browser cannot hand over a path, so the file is streamed to the workspace's upload area.
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', `./api/upload?name=${encodeURIComponent(file.name)}`);
        xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
        xhr.onerror = () => reject(new ApiError('io', `Could not send ${file.name} to Millwright. Check that it is still running.`));
        xhr.onload = () => {
          let reply: Envelope<never>;
          try {
            reply = JSON.parse(xhr.responseText) as Envelope<never>;
          } catch {
            return reject(new ApiError('internal', `Millwright answered the upload of ${file.name} unexpectedly (HTTP ${xhr.status}).`));
          }
          if (reply.ok) resolve(reply.value);
          else reject(new ApiError(reply.error.code, reply.error.message, reply.error.field));
        };
        xhr.send(file);
      });
    },
    on(type, listener) {
      ensureStream();
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener as (e: AppEvent) => void);
      return () => set.delete(listener as (e: AppEvent) => void);
    },
  };
}
