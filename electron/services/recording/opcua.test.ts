import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CertificatePurpose, createSelfSignedCertificate, generatePrivateKey, privateKeyToPEM } from 'node-opcua-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpcUaSettings } from '../../../shared/recording';
import { freePort } from '../../test-support/free-port';
import { simulatedValue, startOpcUaServer, tankId, type RunningOpcUaServer } from '../../test-support/opcua-server';
import { ConnectError, type ConnectOptions, type DriverConnection, type Sample } from './driver';
import { certificateInfo, opcuaDriver, ownCertificateFile, thumbprintOf, type OpcUaConnection } from './opcua';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-opcua-test-'));
const pkiDir = path.join(tmp, 'pki');
let srv: RunningOpcUaServer;
let conn: DriverConnection;

function settings(over: Partial<OpcUaSettings> = {}): OpcUaSettings {
  return { kind: 'opcua', url: srv.url, securityMode: 'none', securityPolicy: 'None', auth: 'anonymous', ...over };
}

function options(over: Partial<ConnectOptions> = {}): ConnectOptions {
  return { settings: settings(), pkiDir, trusted: new Set(), ...over };
}

/** The ConnectError a connect attempt fails with (the test fails if it connects). */
async function failure(opts: ConnectOptions): Promise<ConnectError> {
  let c: DriverConnection | undefined;
  try {
    c = await opcuaDriver.connect(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  await c.close();
  throw new Error('connected, but a ConnectError was expected');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A day as the driver's messages write it, e.g. "12 March 2026". */
const dayOf = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });

/** A self-signed application certificate and its private key (PKCS#8), as PEM files in `dir`. */
async function certificateFiles(
  dir: string,
  o: { name: string; notBefore: Date; notAfter: Date; applicationUri: string; dns: string[] },
): Promise<{ certificateFile: string; privateKeyFile: string }> {
  const privateKey = await generatePrivateKey(2048);
  const { privPem } = await privateKeyToPEM(privateKey);
  const { cert } = await createSelfSignedCertificate({
    privateKey,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    applicationUri: o.applicationUri,
    dns: o.dns,
    subject: `/CN=${o.name}`,
    purpose: CertificatePurpose.ForApplication,
  });
  fs.mkdirSync(dir, { recursive: true });
  const certificateFile = path.join(dir, 'certificate.pem');
  const privateKeyFile = path.join(dir, 'private_key.pem');
  fs.writeFileSync(certificateFile, cert);
  fs.writeFileSync(privateKeyFile, privPem);
  return { certificateFile, privateKeyFile };
}

beforeAll(async () => {
  srv = await startOpcUaServer({ securityModes: ['None', 'SignAndEncrypt'], users: { operator: 'secret' } });
  conn = await opcuaDriver.connect(options());
}, 30_000);

afterAll(async () => {
  await conn?.close();
  await srv?.stop({ removePki: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('connect (security None, anonymous)', () => {
  it('connects and says what the server calls itself', () => {
    expect(conn.serverName).toBe('Millwright test server');
  });

  it('keeps its certificate store in pkiDir', () => {
    expect(fs.existsSync(ownCertificateFile(pkiDir))).toBe(true);
  });
});

describe('browse', () => {
  it('lists the children of Objects without the standard Server object', async () => {
    const { nodes, truncated } = await conn.browse({});
    expect(truncated).toBe(false);
    expect(nodes.map((n) => n.name)).toEqual(['Pump1', 'Line2', 'Tanks']);
    const pump = nodes.find((n) => n.name === 'Pump1')!;
    expect(pump).toMatchObject({ id: 'ns=1;s=Pump1', path: 'Pump1', kind: 'folder', hasChildren: true, dataType: null, numeric: false, value: null });
  });

  it('shows the standard objects when Objects is asked for by id', async () => {
    const { nodes } = await conn.browse({ parent: 'ns=0;i=85' });
    expect(nodes.map((n) => n.name)).toContain('Server');
    expect(nodes.map((n) => n.name)).toContain('Pump1');
  });

  it('lists the variables of Pump1 with data type, unit, numeric flag and current value', async () => {
    const before = Date.now();
    const { nodes } = await conn.browse({ parent: 'ns=1;s=Pump1' });
    const after = Date.now();
    const by = Object.fromEntries(nodes.map((n) => [n.name, n]));
    expect(Object.keys(by).sort()).toEqual(['Counter', 'Name', 'Pressure', 'Running', 'Speed', 'Temperature', 'Vibration']);
    expect(by.Temperature).toMatchObject({ id: 'ns=1;s=Pump1.Temperature', path: 'Pump1/Temperature', kind: 'variable', hasChildren: false, dataType: 'Double', numeric: true, unit: '°C' });
    expect(by.Speed).toMatchObject({ dataType: 'Int32', numeric: true, unit: 'rpm' });
    expect(by.Running).toMatchObject({ dataType: 'Boolean', numeric: true, unit: null });
    expect(typeof by.Running!.value).toBe('boolean');
    expect(by.Name).toMatchObject({ dataType: 'String', numeric: false, value: 'Pump 1' });
    // A variable with a variable of its own stays a variable.
    expect(by.Vibration).toMatchObject({ kind: 'variable', hasChildren: true, numeric: true });
    const counter = by.Counter!.value as number;
    expect(counter).toBeGreaterThanOrEqual(Math.floor(before / 100));
    expect(counter).toBeLessThanOrEqual(Math.floor(after / 100));
    const temp = by.Temperature!.value as number;
    const lo = Math.min(simulatedValue('Pump1.Temperature', before) as number, simulatedValue('Pump1.Temperature', after) as number);
    const hi = Math.max(simulatedValue('Pump1.Temperature', before) as number, simulatedValue('Pump1.Temperature', after) as number);
    expect(temp).toBeGreaterThanOrEqual(lo - 1e-9);
    expect(temp).toBeLessThanOrEqual(hi + 1e-9);
  });

  it("hides a variable's properties (units, ranges) but shows its child variables", async () => {
    expect((await conn.browse({ parent: 'ns=1;s=Pump1.Temperature' })).nodes).toEqual([]);
    const { nodes } = await conn.browse({ parent: 'ns=1;s=Pump1.Vibration' });
    expect(nodes.map((n) => [n.name, n.path])).toEqual([['Peak', 'Pump1/Vibration/Peak']]);
  });

  it('knows the path of a deep node browsed first on a fresh connection', async () => {
    const fresh = await opcuaDriver.connect(options());
    try {
      const { nodes } = await fresh.browse({ parent: 'ns=1;s=Line2.Station3.Robot.Axis1' });
      expect(nodes.map((n) => n.path)).toEqual(['Line2/Station3/Robot/Axis1/Position', 'Line2/Station3/Robot/Axis1/Torque']);
      expect(nodes[0]).toMatchObject({ unit: 'deg', dataType: 'Double', numeric: true });
    } finally {
      await fresh.close();
    }
  });
});

describe('search', () => {
  it('finds nested nodes by name or path, case-insensitively', async () => {
    const { nodes, truncated } = await conn.browse({ search: 'AXIS1' });
    expect(truncated).toBe(false);
    expect(nodes.map((n) => n.path)).toEqual(['Line2/Station3/Robot/Axis1', 'Line2/Station3/Robot/Axis1/Position', 'Line2/Station3/Robot/Axis1/Torque']);
    expect(nodes[0]!.kind).toBe('folder');
    expect(nodes[1]).toMatchObject({ kind: 'variable', dataType: 'Double', unit: 'deg' });
    const torque = await conn.browse({ search: 'torque' });
    expect(torque.nodes.map((n) => n.id)).toEqual(['ns=1;s=Line2.Station3.Robot.Axis1.Torque']);
  });

  it('never searches the standard Server object', async () => {
    const { nodes } = await conn.browse({ search: 'ServerStatus' });
    expect(nodes).toEqual([]);
  });

  it('returns at most 200 nodes and says the list is cut', async () => {
    const { nodes, truncated } = await conn.browse({ search: 'tank' });
    expect(truncated).toBe(true);
    expect(nodes).toHaveLength(200);
    expect(nodes[0]!.path).toBe('Tanks');
    expect(nodes[1]).toMatchObject({ id: `ns=1;s=${tankId(1)}`, path: 'Tanks/Tank001', numeric: true, unit: '%' });
  });

  it('stops after the visited-node limit and says so', async () => {
    const c = conn as OpcUaConnection;
    const all = await c.browseWith({ search: 'position' }, { visited: 2000, results: 200 });
    expect(all).toMatchObject({ truncated: false, nodes: [{ path: 'Line2/Station3/Robot/Axis1/Position' }] });
    // Position is five levels down: five visited nodes do not reach it.
    const cut = await c.browseWith({ search: 'position' }, { visited: 5, results: 200 });
    expect(cut).toEqual({ nodes: [], truncated: true });
    const few = await c.browseWith({ search: 'pump1' }, { visited: 2000, results: 3 });
    expect(few.truncated).toBe(true);
    expect(few.nodes.map((n) => n.path)).toEqual(['Pump1', 'Pump1/Temperature', 'Pump1/Pressure']);
  });
});

describe('read', () => {
  it('reads values that match the simulation at their source timestamps, in order', async () => {
    const ids = ['Pump1.Temperature', 'Pump1.Counter', 'Pump1.Running', 'Pump1.Speed', 'Line2.Conveyor.Load', 'Line2.Station3.Robot.Cycles'];
    const values = await conn.read(ids.map((id) => `ns=1;s=${id}`));
    expect(values.map((v) => v.tag)).toEqual(ids.map((id) => `ns=1;s=${id}`));
    for (const [i, v] of values.entries()) {
      expect(v.quality).toBe('good');
      const t = Date.parse(v.at!);
      const expected = simulatedValue(ids[i]!, t);
      expect(v.value).toBe(typeof expected === 'boolean' ? (expected ? 1 : 0) : expected);
    }
    expect(values[2]!.text).toMatch(/^(true|false)$/);
    expect(values[3]!.text).toBe(String(values[3]!.value));
    // A Float is shown with the digits it holds, not float32 noise.
    expect(Number(values[4]!.text)).toBeCloseTo(values[4]!.value!, 4);
    expect(values[4]!.text!.replace(/^-|\./g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(7);
  });

  it('gives text but no number for a string tag', async () => {
    const [name] = await conn.read(['ns=1;s=Pump1.Name']);
    expect(name).toMatchObject({ value: null, text: 'Pump 1', quality: 'good' });
  });

  it('answers bad quality for unknown or invalid ids instead of failing', async () => {
    const values = await conn.read(['ns=1;s=Pump1.Nope', 'ns=1;s=Pump1.Speed', 'not a node id', 'ns=1;s=Pump1']);
    expect(values[0]).toEqual({ tag: 'ns=1;s=Pump1.Nope', value: null, text: 'No such tag on the server', quality: 'bad', at: null });
    expect(values[1]!.quality).toBe('good');
    expect(values[2]).toMatchObject({ tag: 'not a node id', value: null, quality: 'bad' });
    expect(values[3]).toMatchObject({ value: null, quality: 'bad', text: expect.stringMatching(/not a variable/i) });
  });
});

describe('subscribe', () => {
  it('delivers samples every 200 ms whose values match the simulation at their timestamps', async () => {
    const tags = [
      { id: 'ns=1;s=Pump1.Counter', name: 'Counter' },
      { id: 'ns=1;s=Pump1.Temperature', name: 'Temperature' },
      { id: 'ns=1;s=Line2.Station3.Robot.Axis1.Position', name: 'Position' },
    ];
    const samples: Sample[] = [];
    const sub = await conn.subscribe(tags, 200, (s) => samples.push(s));
    await sleep(1800);
    await sub.close();
    const n = samples.length;
    await sleep(500);
    expect(samples.length).toBe(n);

    for (const s of samples) {
      expect(s.quality).toBe('good');
      expect(s.value).toBe(simulatedValue(s.tag, s.t));
    }
    const counter = samples.filter((s) => s.tag === tags[0]!.id);
    expect(counter.length).toBeGreaterThanOrEqual(6);
    expect(counter.length).toBeLessThanOrEqual(11);
    const gaps = counter.slice(1).map((s, i) => s.t - counter[i]!.t).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThanOrEqual(150);
    expect(median).toBeLessThanOrEqual(300);
    expect(samples.filter((s) => s.tag === tags[1]!.id).length).toBeGreaterThanOrEqual(6);
    expect(samples.filter((s) => s.tag === tags[2]!.id).length).toBeGreaterThanOrEqual(6);
  });

  it('refuses a tag the server does not have, naming it', async () => {
    const err = await conn.subscribe([{ id: 'ns=1;s=Pump1.Speed', name: 'Speed' }, { id: 'ns=1;s=Pump1.Foo', name: 'Foo' }], 500, () => undefined).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).message).toContain('ns=1;s=Pump1.Foo (Foo)');
  });
});

describe('connection problems in plain words', () => {
  it('bad_url for anything that is not opc.tcp://host:port', async () => {
    for (const url of ['http://127.0.0.1:4840', 'opc.tcp://127.0.0.1', 'plc-1:4840', 'opc.tcp://host:99999']) {
      const err = await failure(options({ settings: settings({ url }) }));
      expect(err.problem).toBe('bad_url');
      expect(err.message).toContain(url);
    }
  });

  it('unreachable names the port when nothing listens', async () => {
    const port = await freePort();
    const err = await failure(options({ settings: settings({ url: `opc.tcp://127.0.0.1:${port}` }) }));
    expect(err.problem).toBe('unreachable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain(`port ${port}`);
  });

  it('timeout when something listens but never answers', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.resume();
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const err = await failure(options({ timeoutMs: 1000, settings: settings({ url: `opc.tcp://127.0.0.1:${port}` }) }));
      expect(err.problem).toBe('timeout');
      expect(err.message).toContain('1 s');
      expect(Date.now() - t0).toBeLessThan(5000);
      // The abandoned attempt closes its socket.
      await sleep(300);
      expect([...sockets].filter((s) => !s.destroyed && s.readyState === 'open')).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('wrong_credentials for a wrong password; the right one connects', async () => {
    const err = await failure(options({ settings: settings({ auth: 'password', username: 'operator' }), password: 'guess' }));
    expect(err.problem).toBe('wrong_credentials');
    expect(err.message).toContain('"operator"');
    const ok = await opcuaDriver.connect(options({ settings: settings({ auth: 'password', username: 'operator' }), password: 'secret' }));
    expect((await ok.read(['ns=1;s=Pump1.Speed']))[0]!.quality).toBe('good');
    await ok.close();
  });
});

describe('secure connections', () => {
  const secure = (over: Partial<OpcUaSettings> = {}) => settings({ securityMode: 'signAndEncrypt', securityPolicy: 'Basic256Sha256', ...over });

  it("untrusted_certificate first, with the server's real certificate to decide about", async () => {
    const err = await failure(options({ settings: secure() }));
    expect(err.problem).toBe('untrusted_certificate');
    expect(err.certificate).not.toBeNull();
    expect(err.certificate!.thumbprint).toBe(srv.certificateThumbprint);
    expect(err.certificate!.thumbprint).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(err.certificate!.applicationUri).toBe(`urn:millwright-test:${srv.port}`);
    expect(err.certificate!.subject).toContain('Millwright test server');
    expect(err.certificate!.expired).toBe(false);
    expect(err.message).toContain(srv.certificateThumbprint);
  });

  it('connects and reads once that thumbprint is trusted', async () => {
    const c = await opcuaDriver.connect(options({ settings: secure({ auth: 'password', username: 'operator' }), password: 'secret', trusted: new Set([srv.certificateThumbprint]) }));
    try {
      expect(c.serverName).toBe('Millwright test server');
      const [v] = await c.read(['ns=1;s=Pump1.Counter']);
      expect(v!.value).toBe(simulatedValue('Pump1.Counter', Date.parse(v!.at!)));
      // node-opcua's store trusts it too.
      const trustedDir = path.join(pkiDir, 'trusted', 'certs');
      const trusted = fs.readdirSync(trustedDir).map((f) => certificateInfo(pemToDer(fs.readFileSync(path.join(trustedDir, f)))).thumbprint);
      expect(trusted).toContain(srv.certificateThumbprint);
    } finally {
      await c.close();
    }
  });

  it('logs in with a user certificate', async () => {
    const c = await opcuaDriver.connect(
      options({
        settings: secure({ auth: 'certificate', userCertificateFile: ownCertificateFile(pkiDir), userKeyFile: path.join(pkiDir, 'own', 'private', 'private_key.pem') }),
        trusted: new Set([srv.certificateThumbprint]),
      }),
    );
    await c.close();
    const err = await failure(options({ settings: secure({ auth: 'certificate', userCertificateFile: path.join(tmp, 'missing.pem'), userKeyFile: path.join(tmp, 'missing.key') }) }));
    expect(err.problem).toBe('other');
    expect(err.message).toContain('missing.pem');
  });

  it('security_mismatch lists what the server offers', async () => {
    const err = await failure(options({ settings: secure({ securityMode: 'sign' }), trusted: new Set([srv.certificateThumbprint]) }));
    expect(err.problem).toBe('security_mismatch');
    expect(err.message).toContain('Sign and encrypt (Basic256Sha256)');
    expect(err.message).toContain('None');
  });

  it('certificateInfo and thumbprintOf agree with the server', () => {
    expect(thumbprintOf(srv.certificateDer)).toBe(srv.certificateThumbprint);
    const info = certificateInfo(srv.certificateDer);
    expect(new Date(info.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(info.validTo).getTime()).toBeGreaterThan(Date.now());
  });

  it("rejected_by_server when the server does not trust Millwright's certificate, naming the file", async () => {
    const strict = await startOpcUaServer({ securityModes: ['SignAndEncrypt'], trustClients: false });
    try {
      const err = await failure(
        options({ settings: settings({ url: strict.url, securityMode: 'signAndEncrypt', securityPolicy: 'Basic256Sha256' }), trusted: new Set([strict.certificateThumbprint]) }),
      );
      expect(err.problem).toBe('rejected_by_server');
      expect(err.message).toContain(ownCertificateFile(pkiDir));
      // The server kept it in its rejected list, where an administrator finds it.
      expect(fs.readdirSync(path.join(strict.pkiDir, 'server', 'rejected')).length).toBeGreaterThan(0);
    } finally {
      await strict.stop({ removePki: true });
    }
  }, 20_000);
});

describe('certificates outside their validity dates', () => {
  const DAY = 86_400_000;
  const noonIn = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + DAY / 2);
  const cases = [
    // Noon UTC: the same calendar day in every time zone this PC may be in.
    { what: 'expired', notBefore: new Date('2024-03-12T12:00:00Z'), notAfter: new Date('2025-03-12T12:00:00Z'), words: 'expired on 12 March 2025' },
    { what: 'not valid yet', notBefore: noonIn(400), notAfter: noonIn(800), words: `is valid only from ${dayOf(noonIn(400))}` },
  ];

  for (const c of cases) {
    it(`refuses a trusted server certificate that is ${c.what}, naming the date and this PC's date`, async () => {
      const port = await freePort();
      const files = await certificateFiles(path.join(tmp, `server-${port}`), {
        name: 'Old pump station',
        notBefore: c.notBefore,
        notAfter: c.notAfter,
        applicationUri: `urn:millwright-test:${port}`,
        dns: ['localhost'],
      });
      const old = await startOpcUaServer({ port, securityModes: ['None', 'SignAndEncrypt'], certificate: files });
      try {
        expect(old.certificateThumbprint).toBe(thumbprintOf(new crypto.X509Certificate(fs.readFileSync(files.certificateFile)).raw));
        const secure = settings({ url: old.url, securityMode: 'signAndEncrypt', securityPolicy: 'Basic256Sha256' });

        // Not trusted yet: the person sees the certificate, marked as outside its dates.
        const first = await failure(options({ settings: secure }));
        expect(first.problem).toBe('untrusted_certificate');
        expect(first.certificate).toMatchObject({ thumbprint: old.certificateThumbprint, expired: true, validTo: c.notAfter.toISOString() });

        // Trusted: still not used, with the reason in plain words.
        const err = await failure(options({ settings: secure, trusted: new Set([old.certificateThumbprint]) }));
        expect(err.problem).toBe('other');
        expect(err.message).toContain(`The certificate of the server at 127.0.0.1:${port} ${c.words}`);
        expect(err.message).toContain("Ask the server's administrator to renew it, then trust the new certificate");
        expect(err.message).toContain(`check this PC's clock: it says today is ${dayOf(new Date())}`);
        expect(err.message).not.toContain("refused Millwright's certificate");
        expect(err.certificate).toMatchObject({
          thumbprint: old.certificateThumbprint,
          subject: 'CN=Old pump station',
          applicationUri: `urn:millwright-test:${port}`,
          validFrom: c.notBefore.toISOString(),
          validTo: c.notAfter.toISOString(),
          expired: true,
        });
        // node-opcua's own store was not told to trust it.
        const trustedDir = path.join(pkiDir, 'trusted', 'certs');
        const stored = fs.existsSync(trustedDir) ? fs.readdirSync(trustedDir).map((f) => certificateInfo(pemToDer(fs.readFileSync(path.join(trustedDir, f)))).thumbprint) : [];
        expect(stored).not.toContain(old.certificateThumbprint);

        // The server itself runs with that certificate: without security it answers.
        const plain = await opcuaDriver.connect(options({ settings: settings({ url: old.url }) }));
        expect((await plain.read(['ns=1;s=Pump1.Speed']))[0]!.quality).toBe('good');
        await plain.close();
      } finally {
        await old.stop({ removePki: true });
      }
    }, 30_000);
  }

  it("says the server finds Millwright's certificate outside its dates (not that it must be trusted) and points at the clocks", async () => {
    // Millwright's own certificate expired, and the server trusts it (its file is in the server's trusted folder).
    const clientPki = path.join(tmp, 'pki-expired-own');
    const own = await certificateFiles(path.join(tmp, 'own-expired'), {
      name: 'Millwright',
      notBefore: new Date('2024-03-12T12:00:00Z'),
      notAfter: new Date('2025-03-12T12:00:00Z'),
      applicationUri: `urn:${os.hostname()}:Millwright`,
      dns: [os.hostname()],
    });
    fs.mkdirSync(path.dirname(ownCertificateFile(clientPki)), { recursive: true });
    fs.mkdirSync(path.join(clientPki, 'own', 'private'), { recursive: true });
    fs.copyFileSync(own.certificateFile, ownCertificateFile(clientPki));
    fs.copyFileSync(own.privateKeyFile, path.join(clientPki, 'own', 'private', 'private_key.pem'));
    const serverPki = path.join(tmp, 'pki-strict-server');
    fs.mkdirSync(path.join(serverPki, 'server', 'trusted', 'certs'), { recursive: true });
    fs.copyFileSync(own.certificateFile, path.join(serverPki, 'server', 'trusted', 'certs', 'millwright.pem'));

    const strict = await startOpcUaServer({ securityModes: ['SignAndEncrypt'], trustClients: false, pkiDir: serverPki });
    try {
      const err = await failure({
        settings: settings({ url: strict.url, securityMode: 'signAndEncrypt', securityPolicy: 'Basic256Sha256' }),
        pkiDir: clientPki,
        trusted: new Set([strict.certificateThumbprint]),
      });
      expect(err.problem).toBe('rejected_by_server');
      expect(err.message).toContain(`The server at 127.0.0.1:${strict.port} refused Millwright's certificate (${ownCertificateFile(clientPki)}, valid from 12 March 2024 to 12 March 2025)`);
      expect(err.message).toContain("by the server's clock it is outside its validity dates");
      expect(err.message).toContain(`(it says today is ${dayOf(new Date())})`);
      expect(err.message).not.toMatch(/must trust/);
    } finally {
      await strict.stop();
      fs.rmSync(serverPki, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('losing the connection', () => {
  it('reports onLost once when the server stops, not after close(), and connects again after a restart', async () => {
    const own = await startOpcUaServer();
    try {
      const lost: string[] = [];
      const closedLost: string[] = [];
      const a = await opcuaDriver.connect(options({ settings: settings({ url: own.url }), onLost: (r) => lost.push(r) }));
      const b = await opcuaDriver.connect(options({ settings: settings({ url: own.url }), onLost: (r) => closedLost.push(r) }));
      const samples: Sample[] = [];
      await a.subscribe([{ id: 'ns=1;s=Pump1.Counter', name: 'Counter' }], 200, (s) => samples.push(s));
      const t0 = Date.now();
      await b.close();
      await b.close(); // idempotent
      expect(Date.now() - t0).toBeLessThan(2000);
      await sleep(500);
      expect(samples.length).toBeGreaterThan(0);

      const stoppedAt = Date.now();
      await own.stop();
      while (lost.length === 0 && Date.now() - stoppedAt < 5000) await sleep(50);
      expect(lost).toHaveLength(1);
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      expect(lost[0]).toContain(`127.0.0.1:${own.port}`);
      await sleep(500);
      expect(lost).toHaveLength(1);
      expect(closedLost).toEqual([]);
      const afterLoss = await a.read(['ns=1;s=Pump1.Speed']).then(() => null, (e: unknown) => e);
      expect(afterLoss).toBeInstanceOf(ConnectError);
      expect((afterLoss as ConnectError).message).toMatch(/connect again/i);
      const t1 = Date.now();
      await a.close();
      expect(Date.now() - t1).toBeLessThan(2000);

      await own.restart();
      const again = await opcuaDriver.connect(options({ settings: settings({ url: own.url }) }));
      expect((await again.read(['ns=1;s=Pump1.Speed']))[0]!.quality).toBe('good');
      await again.close();
    } finally {
      await own.stop({ removePki: true });
    }
  }, 30_000);
});

function pemToDer(pem: Buffer): Buffer {
  const text = pem.toString('utf8');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : pem;
}
