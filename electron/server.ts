/**
 * Server mode: the renderer and the API over HTTP on loopback, for browsers,
 * for the end-to-end tests and for teams that run Millwright on a plant server.
 *
 * Every /api request must carry the per-start token (Authorization: Bearer,
 * or ?token= for the event stream, which EventSource cannot give headers), and
 * requests from another origin or for another host name are refused.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import type { AppEvent, Envelope } from '../shared/api';
import { AppError, HTTP_STATUS, toErrorInfo, type ErrorCode } from '../shared/errors';
import type { Core } from './services/compose';
import { logInternal } from './services/api/dispatch';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const MAX_BODY = 1 << 20;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface ServerOptions {
  core: Core;
  rendererDir: string;
  port?: number;
  host?: string;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open, with the token. */
  openUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const tokenDigest = digest(token);
  const { core } = opts;
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const checkToken = (given: string | null | undefined): boolean =>
    typeof given === 'string' && crypto.timingSafeEqual(digest(given), tokenDigest);

  let hosts: Set<string> | undefined;
  const allowedHosts = (): Set<string> => (hosts ??= hostNames());
  const hostNames = (): Set<string> => {
    const names = ['127.0.0.1', 'localhost', '[::1]', host];
    // Opened to the network (--host 0.0.0.0): people reach it by this PC's name or addresses.
    if (!LOOPBACK.has(host)) {
      names.push(os.hostname().toLowerCase());
      for (const list of Object.values(os.networkInterfaces())) {
        for (const a of list ?? []) names.push(a.family === 'IPv6' ? `[${a.address}]` : a.address);
      }
    }
    return new Set(names.map((n) => `${n}:${port}`));
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (err instanceof AppError) {
        if (!res.headersSent) sendJson(res, HTTP_STATUS[err.code], { ok: false, error: err.toInfo() });
        return;
      }
      logInternal(core.ws.logDir, `http ${req.method} ${req.url}`, err);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: toErrorInfo(err) });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      // Prefixed, not resolved against the base: new URL('//x', base) reads x as a host name (and throws on some).
      url = new URL(req.url?.startsWith('/') ? `http://localhost${req.url}` : (req.url ?? '/'), 'http://localhost');
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');

    // A page on another site may resolve its own name to 127.0.0.1 (DNS
    // rebinding); the Host header still carries that name.
    if (!allowedHosts().has(String(req.headers.host ?? '').toLowerCase())) {
      return fail(res, 'forbidden', 'Requests must address this computer by 127.0.0.1 or localhost.');
    }

    if (!url.pathname.startsWith('/api/')) return serveStatic(url.pathname, req, res);

    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().has(origin.replace(/^https?:\/\//, '').toLowerCase())) {
      return fail(res, 'forbidden');
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') return fail(res, 'forbidden');

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!checkToken(bearer ?? url.searchParams.get('token'))) return fail(res, 'unauthorized');
    res.setHeader('Cache-Control', 'no-store');

    if (url.pathname === '/api/events' && req.method === 'GET') return openStream(req, res);
    if (url.pathname === '/api/upload' && req.method === 'POST') {
      const ref = await receiveUpload(req, url.searchParams.get('name') ?? '', path.join(core.ws.dir, 'tmp', 'uploads'));
      return sendJson(res, 200, { ok: true, value: ref });
    }
    if (url.pathname === '/api/download' && req.method === 'GET') return sendExport(url.searchParams.get('file') ?? '', res);
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.slice('/api/'.length));
    } catch {
      return fail(res, 'unknown_method', 'That is not a valid action name.');
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return fail(res, 'bad_input', 'API calls use POST with a JSON body.', 405);
    }
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(type)) {
      return fail(res, 'bad_input', 'API calls must send a JSON body (Content-Type: application/json).', 415);
    }
    let arg: unknown;
    try {
      const body = await readBody(req);
      arg = body.length ? (JSON.parse(body.toString('utf8')) as unknown) : {};
    } catch (err) {
      if (err instanceof AppError) {
        // The rest of the body is not read: close the connection once the reply is out.
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.destroy());
        return fail(res, err.code, err.message, 413);
      }
      return fail(res, 'bad_input', 'The request body is not valid JSON.');
    }
    const reply = await core.call(name, arg);
    sendJson(res, reply.ok ? 200 : HTTP_STATUS[reply.error.code as ErrorCode] ?? 500, reply);
  }

  /** A file the app wrote into the workspace's exports folder (scored files), by its name only. */
  function sendExport(name: string, res: http.ServerResponse): void {
    const dir = path.join(core.ws.dir, 'exports');
    const file = path.join(dir, path.basename(name));
    if (!name || path.basename(name) !== name || !fs.existsSync(file) || !fs.statSync(file).isFile()) return fail(res, 'not_found', `There is no exported file called "${name.slice(0, 200)}".`);
    const st = fs.statSync(file);
    res.writeHead(200, {
      'Content-Type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream',
      'Content-Length': st.size,
      'Content-Disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
    fs.createReadStream(file).pipe(res);
  }

  function openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    streams.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      streams.delete(res);
    });
  }

  const onEvent = (event: AppEvent) => {
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const s of streams) s.write(frame);
  };
  core.events.on('event', onEvent);

  function serveStatic(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const root = path.resolve(opts.rendererDir);
    let file = path.resolve(root, '.' + path.posix.normalize(rel));
    if (!file.startsWith(root + path.sep) && file !== root) {
      res.writeHead(404).end();
      return;
    }
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      // Client-side routes fall back to the app; missing assets stay 404.
      if (path.extname(rel)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
        return;
      }
      file = path.join(root, 'index.html');
    }
    if (!fs.existsSync(file)) {
      res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end('The Millwright interface is not built. Run `npm run build` and start again.');
      return;
    }
    const ext = path.extname(file);
    res.writeHead(200, {
      'Content-Type': MIME[ext] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': ext === '.html' ? 'no-store' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AppError('conflict', `Port ${opts.port} on ${host} is already in use. Choose another with --port.`)
          : err.code === 'EADDRNOTAVAIL'
            ? new AppError('bad_input', `This computer has no address ${host}. Use --host 127.0.0.1.`)
            : err,
      ),
    );
    server.listen(opts.port ?? 0, host, resolve);
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${port}`;
  return {
    url,
    openUrl: `${url}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        core.events.off('event', onEvent);
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Streams an uploaded file into the workspace's upload area (tmp/uploads/<id>/<name>),
 * so a browser can import files of any size without holding them in memory.
 */
async function receiveUpload(req: http.IncomingMessage, rawName: string, dir: string): Promise<{ path: string; fileName: string; sizeBytes: number }> {
  const fileName = path.basename(rawName.replace(/[\\/]/g, '_')).replace(/\p{Cc}/gu, '').trim();
  if (!fileName || fileName === '.' || fileName === '..') throw new AppError('bad_input', 'The upload has no file name.', 'name');
  const target = path.join(dir, crypto.randomBytes(8).toString('hex'));
  fs.mkdirSync(target, { recursive: true });
  const file = path.join(target, fileName);
  let size = 0;
  req.on('data', (c: Buffer) => (size += c.length));
  try {
    await pipeline(req, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (err) {
    fs.rmSync(target, { recursive: true, force: true });
    throw new AppError('io', `The upload of ${fileName} was interrupted (${(err as Error).message}).`);
  }
  return { path: file, fileName, sizeBytes: size };
}

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        // Stop collecting but keep the socket, so the 413 reply can still be sent.
        req.removeAllListeners('data');
        req.resume();
        reject(new AppError('bad_input', 'The request is larger than 1 MB.'));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: Envelope<unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: http.ServerResponse, code: ErrorCode, message?: string, status?: number): void {
  const err = new AppError(code, message);
  sendJson(res, status ?? HTTP_STATUS[code], { ok: false, error: err.toInfo() });
}
