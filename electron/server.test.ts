import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent, JobInfo } from '../shared/api';
import { createCore, type Core } from './services/compose';
import { CSP, startServer, type RunningServer } from './server';
import { MIGRATIONS } from './services/workspace/migrations';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let root: string;
let rendererDir: string;
let core: Core;
let server: RunningServer;

const INDEX_HTML = '<!doctype html><title>Millwright test shell</title><div id="root"></div>';
const SECRET = 'TOP-SECRET-NEXT-TO-THE-RENDERER';

function request(
  method: string,
  urlPath: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path: urlPath, headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

function api(name: string, arg: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request('POST', `/api/${name}`, {
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}`, ...headers },
    body: JSON.stringify(arg),
  });
}

function json(reply: Reply): { ok: boolean; value?: unknown; error?: { code: string; message: string; field?: string } } {
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(reply.body) as never;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-server-'));
  rendererDir = path.join(root, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  fs.writeFileSync(path.join(root, 'secret.txt'), SECRET);
  core = createCore({ workspaceDir: path.join(root, 'workspace') });
  server = await startServer({ core, rendererDir });
});

afterAll(async () => {
  await server?.close();
  await core?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('startServer', () => {
  it('listens on loopback with a random token in the link to open', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(server.token.length).toBeGreaterThanOrEqual(24);
    expect(server.openUrl).toBe(`${server.url}/?token=${server.token}`);
  });
});

describe('API over HTTP: access', () => {
  it('refuses a call without a token with 401 and the envelope', async () => {
    const reply = await request('POST', '/api/app.info', { headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(401);
    const body = json(reply);
    expect(body.ok).toBe(false);
    expect(body.error!.code).toBe('unauthorized');
    expect(body.error!.message.length).toBeGreaterThan(0);
  });

  it('refuses a wrong token with 401', async () => {
    const reply = await api('app.info', {}, { Authorization: 'Bearer not-the-token' });
    expect(reply.status).toBe(401);
    expect(json(reply).error!.code).toBe('unauthorized');
  });

  it('refuses a token that is only a prefix of the right one', async () => {
    const reply = await api('app.info', {}, { Authorization: `Bearer ${server.token.slice(0, -1)}` });
    expect(reply.status).toBe(401);
  });

  it('answers the right token with 200 and the value', async () => {
    const reply = await api('app.info', {});
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    const body = json(reply);
    expect(body.ok).toBe(true);
    expect(body.value).toMatchObject({
      name: 'Millwright',
      version: core.version,
      workspace: path.join(root, 'workspace'),
      schemaVersion: MIGRATIONS.at(-1)!.version,
      nodeVersion: process.versions.node,
      electronVersion: null,
    });
  });

  it('accepts the token as a query parameter', async () => {
    const reply = await request('POST', `/api/app.info?token=${encodeURIComponent(server.token)}`, {
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(reply.status).toBe(200);
  });

  it('refuses a request from another origin with 403', async () => {
    const reply = await api('app.info', {}, { Origin: 'http://evil.example' });
    expect(reply.status).toBe(403);
    expect(json(reply).error!.code).toBe('forbidden');
  });

  it('accepts a request from its own origin', async () => {
    const reply = await api('app.info', {}, { Origin: `http://127.0.0.1:${server.port}` });
    expect(reply.status).toBe(200);
    const local = await api('app.info', {}, { Origin: `http://localhost:${server.port}` });
    expect(local.status).toBe(200);
  });

  it('refuses a request from the right host but another port as origin', async () => {
    const reply = await api('app.info', {}, { Origin: `http://127.0.0.1:${server.port + 1}` });
    expect(reply.status).toBe(403);
  });

  it('refuses a browser-marked cross-site request', async () => {
    const reply = await api('app.info', {}, { 'Sec-Fetch-Site': 'cross-site' });
    expect(reply.status).toBe(403);
    expect(json(reply).error!.code).toBe('forbidden');
  });

  it('refuses another host name (DNS rebinding) with 403, even with the token', async () => {
    const reply = await api('app.info', {}, { Host: `evil.example:${server.port}` });
    expect(reply.status).toBe(403);
    expect(json(reply).error!.code).toBe('forbidden');
    const page = await request('GET', '/', { headers: { Host: `evil.example:${server.port}` } });
    expect(page.status).toBe(403);
    expect(page.body).not.toContain('Millwright test shell');
  });

  it('accepts localhost as host name', async () => {
    const reply = await api('app.info', {}, { Host: `localhost:${server.port}` });
    expect(reply.status).toBe(200);
  });

  it('sets defensive headers on every answer', async () => {
    const reply = await api('app.info', {});
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['x-frame-options']).toBe('DENY');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('API over HTTP: calls', () => {
  it('answers bad input with 400 naming the field', async () => {
    const reply = await api('jobs.list', { limit: 'x' });
    expect(reply.status).toBe(400);
    const body = json(reply);
    expect(body.ok).toBe(false);
    expect(body.error!.code).toBe('bad_input');
    expect(body.error!.field).toBe('limit');
    expect(body.error!.message).toContain('"limit"');
  });

  it('answers an unknown method with 404 unknown_method', async () => {
    const reply = await api('models.explode', {});
    expect(reply.status).toBe(404);
    expect(json(reply).error!.code).toBe('unknown_method');
  });

  it('answers an unknown id with 404 not_found', async () => {
    const reply = await api('jobs.get', { id: 'job_nope' });
    expect(reply.status).toBe(404);
    expect(json(reply).error).toMatchObject({ code: 'not_found', field: 'id' });
  });

  it('answers a body that is not JSON with 400', async () => {
    const reply = await request('POST', '/api/app.info', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: '{not json',
    });
    expect(reply.status).toBe(400);
    const body = json(reply);
    expect(body.error!.code).toBe('bad_input');
    expect(body.error!.message).toContain('not valid JSON');
  });

  it('treats an empty JSON body as an empty argument', async () => {
    const reply = await request('POST', '/api/jobs.list', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
    });
    expect(reply.status).toBe(200);
    expect(Array.isArray(json(reply).value)).toBe(true);
  });

  it('answers another content type with 415', async () => {
    const reply = await request('POST', '/api/app.info', {
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${server.token}` },
      body: '{}',
    });
    expect(reply.status).toBe(415);
    expect(json(reply).error!.code).toBe('bad_input');
  });

  it('answers GET on a method with 405 and Allow: POST', async () => {
    const reply = await request('GET', '/api/app.info', { headers: { Authorization: `Bearer ${server.token}` } });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('POST');
    expect(json(reply).ok).toBe(false);
  });

  it('refuses a body over 1 MB before it reaches a handler', async () => {
    const before = core.ws.db.prepare('SELECT COUNT(*) AS n FROM jobs').get();
    const reply = await request('POST', '/api/system.check', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ seconds: 1, pad: 'x'.repeat(1_100_000) }),
    }).catch((err: NodeJS.ErrnoException) => err);
    if (reply instanceof Error) expect(reply.code).toMatch(/ECONNRESET|EPIPE/);
    else expect(reply.status).not.toBe(200);
    expect(core.ws.db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual(before);
  });
  // delivered and the client sees a connection reset instead.
  it('answers a body over 1 MB with 413', async () => {
    const reply = await request('POST', '/api/app.info', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
    });
    expect(reply.status).toBe(413);
  });
  // answered as a 500 internal error (and logged) instead of a 4xx.
  it('answers a malformed escape in a method name with a 4xx', async () => {
    const reply = await api('%E0%A4%A', {});
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
  });

  it('decodes an escaped method name', async () => {
    const reply = await api('app%2Einfo', {});
    expect(reply.status).toBe(200);
  });
});

describe('static files', () => {
  it('serves index.html at / with the content security policy', async () => {
    const reply = await request('GET', '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(INDEX_HTML);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-security-policy']).toBe(CSP);
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('serves assets with their type and long caching', async () => {
    const reply = await request('GET', '/assets/app.js');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('console.log("app")');
    expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(reply.headers['cache-control']).toContain('immutable');
  });

  it('falls back to the app for client-side routes but not for missing assets', async () => {
    const route = await request('GET', '/data/imports');
    expect(route.status).toBe(200);
    expect(route.body).toBe(INDEX_HTML);
    const asset = await request('GET', '/assets/missing.js');
    expect(asset.status).toBe(404);
  });

  it('answers HEAD without a body', async () => {
    const reply = await request('HEAD', '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
  });

  it('refuses other methods on static paths', async () => {
    const reply = await request('POST', '/index.html', { body: 'x' });
    expect(reply.status).toBe(405);
  });

  it('never serves files outside the renderer folder', async () => {
    const attempts = [
      '/../../etc/passwd',
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/....//secret.txt',
      '/%252e%252e/secret.txt',
    ];
    for (const p of attempts) {
      const reply = await request('GET', p);
      expect([200, 400, 404], p).toContain(reply.status);
      if (reply.status === 200) expect(reply.body, p).toBe(INDEX_HTML);
      expect(reply.body, p).not.toContain(SECRET);
      expect(reply.body, p).not.toMatch(/root:.*:0:0:/);
    }
  });

  it('answers a malformed escape with 400', async () => {
    const reply = await request('GET', '/%E0%A4%A');
    expect(reply.status).toBe(400);
  });
});

describe('event stream', () => {
  it('refuses the stream without the token', async () => {
    const reply = await request('GET', '/api/events');
    expect(reply.status).toBe(401);
  });

  it('pushes job events after a job is started through the API', async () => {
    const received: AppEvent[] = [];
    let raw = '';
    const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: server.port, path: `/api/events?token=${encodeURIComponent(server.token)}`, agent: false },
        resolve,
      );
      req.on('error', reject);
    });
    try {
      expect(stream.statusCode).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const done = new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => {
          raw += chunk.toString('utf8');
          const frames = raw.split('\n\n');
          raw = frames.pop()!;
          for (const frame of frames) {
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (!data) continue;
            expect(frame).toMatch(/^event: job$/m);
            const event = JSON.parse(data) as AppEvent;
            received.push(event);
            if (event.type === 'job' && event.job.state === 'done') resolve();
          }
        });
      });
      // The stream is open once the server wrote its greeting.
      const start = await api('system.check', { seconds: 0.2 });
      expect(start.status).toBe(200);
      const job = json(start).value as JobInfo;
      expect(job.kind).toBe('system.check');
      await done;

      const mine = received.filter((e): e is Extract<AppEvent, { type: 'job' }> => e.type === 'job' && e.job.id === job.id);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine[0]!.job.state).toBe('queued');
      expect(mine.some((e) => e.job.state === 'running')).toBe(true);
      expect(mine.at(-1)!.job.state).toBe('done');
      expect(mine.at(-1)!.job.progress).toBe(1);
    } finally {
      stream.destroy();
    }
  });
});
