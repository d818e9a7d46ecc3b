/**
 * A real OPC UA server (node-opcua) on loopback with simulated plant tags,
 * for the OPC UA driver's tests and the recording e2e spec.
 *
 * Every value is a pure function of the time it is read at (see SIMULATION),
 * and each read carries that time as its source timestamp, so a test can check
 * any sample against the formula at the sample's own timestamp.
 *
 * Standalone: `npx tsx electron/test-support/opcua-server.ts --port 4840
 * [--secure] [--user NAME:PASSWORD] [--no-anonymous]` prints one JSON line
 * ({"url", "port", "certificateThumbprint", "pkiDir"}) when it listens and
 * runs until killed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataType, DataValue, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant, setErrorLogger, setWarningLogger } from 'node-opcua-client';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { OPCUAServer } from 'node-opcua-server';
import { freePort } from './free-port';

type Mode = 'None' | 'Sign' | 'SignAndEncrypt';

export interface OpcUaServerOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** Message security modes offered; secure ones use Basic256Sha256. Default ['None']. */
  securityModes?: Mode[];
  /** Allow anonymous sessions (default true). */
  allowAnonymous?: boolean;
  /** User name → password accepted for password sessions; read at each login, so a test may change a password while the server runs. */
  users?: Record<string, string>;
  /** Accept any client certificate (default true); false rejects clients whose certificate is not in the server's trusted folder. */
  trustClients?: boolean;
  /** Certificate store of the server; default a new temp folder (kept across restart, removed by stop({ removePki: true })). */
  pkiDir?: string;
  /** What the server calls itself. */
  productName?: string;
  /**
   * The server's own certificate and private key (PEM files), e.g. an expired
   * one; default a certificate node-opcua makes, valid for 10 years. Its
   * application URI must be urn:millwright-test:<port>, as the server announces.
   */
  certificate?: { certificateFile: string; privateKeyFile: string };
  /** How many sessions the server allows at once (default 50); a PLC allows a handful. */
  maxSessions?: number;
}

export interface RunningOpcUaServer {
  url: string;
  port: number;
  pkiDir: string;
  /** The server certificate's SHA-1, upper-case hex with colons (as CertificateInfo has it). */
  certificateThumbprint: string;
  certificateDer: Buffer;
  productName: string;
  /** Every user name and password login the server checked (ActivateSession), in order, and whether it accepted it. */
  logins(): ReadonlyArray<{ userName: string; password: string; accepted: boolean }>;
  /** The running node-opcua server (replaced by restart). */
  server(): OPCUAServer;
  /** Shuts the server down (idempotent). removePki also deletes the temp certificate store. */
  stop(opts?: { removePki?: boolean }): Promise<void>;
  /** Stops (if running) and starts again on the same port with the same certificate. */
  restart(): Promise<void>;
}

/** Node ids of the simulated variables, as the driver's Tag.id. */
export const NS = 'ns=1';
const TAU = 2 * Math.PI;

interface SimVar {
  dataType: DataType;
  f: (t: number) => number | boolean | string;
  unit?: string;
  range?: [number, number];
}

/** Simulated variables by node id (ns=1;s=<id>): value at time t (ms since 1970). */
export const SIMULATION: Record<string, SimVar> = {
  'Pump1.Temperature': { dataType: DataType.Double, f: (t) => 60 + 15 * Math.sin((TAU * t) / 60_000), unit: '°C', range: [0, 150] },
  'Pump1.Pressure': { dataType: DataType.Double, f: (t) => 4 + 0.5 * Math.cos((TAU * t) / 20_000), unit: 'bar', range: [0, 10] },
  'Pump1.Running': { dataType: DataType.Boolean, f: (t) => Math.floor(t / 10_000) % 2 === 0 },
  'Pump1.Speed': { dataType: DataType.Int32, f: (t) => 1450 + (Math.floor(t / 1000) % 50), unit: 'rpm', range: [0, 3000] },
  'Pump1.Name': { dataType: DataType.String, f: () => 'Pump 1' },
  'Pump1.Counter': { dataType: DataType.Double, f: (t) => Math.floor(t / 100) },
  'Line2.Conveyor.BeltSpeed': { dataType: DataType.Double, f: (t) => 1.5 + 0.2 * Math.sin((TAU * t) / 10_000), unit: 'm/s', range: [0, 5] },
  'Line2.Conveyor.Load': { dataType: DataType.Float, f: (t) => Math.fround(40 + 20 * Math.sin((TAU * t) / 30_000)), unit: '%', range: [0, 100] },
  'Line2.Station3.Robot.Cycles': { dataType: DataType.UInt32, f: (t) => Math.floor(t / 2000) % 2 ** 32 },
  'Line2.Station3.Robot.Status': { dataType: DataType.String, f: (t) => (Math.floor(t / 2000) % 3 === 0 ? 'Idle' : 'Working') },
  'Line2.Station3.Robot.Axis1.Position': { dataType: DataType.Double, f: (t) => 180 * Math.sin((TAU * t) / 8000), unit: 'deg', range: [-180, 180] },
  'Line2.Station3.Robot.Axis1.Torque': { dataType: DataType.Double, f: (t) => 12 + 3 * Math.cos((TAU * t) / 8000), unit: 'Nm', range: [0, 50] },
  'Line2.Alarm': { dataType: DataType.Boolean, f: (t) => Math.floor(t / 5000) % 4 === 0 },
};
const VIBRATION = (t: number) => 2 + Math.abs(Math.sin((TAU * t) / 5000));
/** Tanks/Tank001 … Tank250: many tags for search limits. Level of tank i at t. */
export const TANK_COUNT = 250;
export const tankLevel = (i: number, t: number): number => 50 + 40 * Math.sin((TAU * (t + i * 1000)) / 120_000);
export const tankId = (i: number): string => `Tanks.Tank${String(i).padStart(3, '0')}`;

/** The value a simulated variable has at time t (ms). */
export function simulatedValue(id: string, t: number): number | boolean | string {
  const bare = id.replace(/^ns=1;s=/, '');
  const m = /^Tanks\.Tank(\d{3})$/.exec(bare);
  if (m) return tankLevel(Number(m[1]), t);
  if (bare === 'Pump1.Vibration') return VIBRATION(t);
  if (bare === 'Pump1.Vibration.Peak') return 2 * VIBRATION(t);
  const sim = SIMULATION[bare];
  if (!sim) throw new Error(`not a simulated variable: ${id}`);
  return sim.f(t);
}

/** SHA-1 of DER bytes as upper-case hex with colons. */
function thumbprint(der: Buffer): string {
  return crypto.createHash('sha1').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

function timestamped(dataType: DataType, f: (t: number) => number | boolean | string) {
  return {
    timestamped_get: () => {
      const t = Date.now();
      return new DataValue({
        value: new Variant({ dataType, value: f(t) }),
        sourceTimestamp: new Date(t),
        serverTimestamp: new Date(t),
        statusCode: StatusCodes.Good,
      });
    },
  };
}

function buildAddressSpace(server: OPCUAServer): void {
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const objects = addressSpace.rootFolder.objects;
  const parents = new Map<string, Parameters<typeof ns.addVariable>[0]['componentOf']>();

  const object = (id: string, parentId: string | null) => {
    const name = id.split('.').pop()!;
    const parent = parentId ? parents.get(parentId) : objects;
    const node = ns.addObject({ browseName: name, nodeId: `s=${id}`, organizedBy: parent as never });
    parents.set(id, node);
  };
  const folder = (id: string, parentId: string | null) => {
    const name = id.split('.').pop()!;
    const parent = parentId ? parents.get(parentId) : objects;
    const node = ns.addFolder(parent as never, { browseName: name, nodeId: `s=${id}` });
    parents.set(id, node);
  };
  object('Pump1', null);
  folder('Line2', null);
  object('Line2.Conveyor', 'Line2');
  folder('Line2.Station3', 'Line2');
  object('Line2.Station3.Robot', 'Line2.Station3');
  object('Line2.Station3.Robot.Axis1', 'Line2.Station3.Robot');
  folder('Tanks', null);

  const variable = (id: string, sim: SimVar) => {
    const parentId = id.split('.').slice(0, -1).join('.');
    const common = {
      componentOf: parents.get(parentId),
      browseName: id.split('.').pop()!,
      nodeId: `s=${id}`,
      dataType: DataType[sim.dataType],
      minimumSamplingInterval: 50,
      value: timestamped(sim.dataType, sim.f),
    };
    if (sim.unit) {
      ns.addAnalogDataItem({
        ...common,
        engineeringUnitsRange: { low: sim.range![0], high: sim.range![1] },
        engineeringUnits: { namespaceUri: 'http://www.opcfoundation.org/UA/units/un/cefact', unitId: -1, displayName: { text: sim.unit }, description: { text: sim.unit } },
      });
    } else {
      ns.addVariable(common);
    }
  };
  for (const [id, sim] of Object.entries(SIMULATION)) variable(id, sim);
  // A variable with a variable of its own (as DataItems and some PLC structures have).
  const vibration = ns.addVariable({
    componentOf: parents.get('Pump1'),
    browseName: 'Vibration',
    nodeId: 's=Pump1.Vibration',
    dataType: 'Double',
    minimumSamplingInterval: 50,
    value: timestamped(DataType.Double, VIBRATION),
  });
  ns.addVariable({
    componentOf: vibration,
    browseName: 'Peak',
    nodeId: 's=Pump1.Vibration.Peak',
    dataType: 'Double',
    minimumSamplingInterval: 50,
    value: timestamped(DataType.Double, (t) => 2 * VIBRATION(t)),
  });
  for (let i = 1; i <= TANK_COUNT; i++) {
    variable(tankId(i), { dataType: DataType.Double, f: (t) => tankLevel(i, t), unit: '%', range: [0, 100] });
  }
}

const MODES: Record<Mode, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

/** Starts the simulated server; resolves when it listens. */
export async function startOpcUaServer(opts: OpcUaServerOptions = {}): Promise<RunningOpcUaServer> {
  const port = opts.port ?? (await freePort());
  const ownPki = !opts.pkiDir;
  const pkiDir = opts.pkiDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mw-opcua-server-'));
  const modes = opts.securityModes ?? ['None'];
  const users = opts.users ?? {};
  const productName = opts.productName ?? 'Millwright test server';
  let server: OPCUAServer | null = null;
  const logins: Array<{ userName: string; password: string; accepted: boolean }> = [];
  const isValidUser = (userName: string, password: string): boolean => {
    const accepted = Object.hasOwn(users, userName) && users[userName] === password;
    logins.push({ userName, password, accepted });
    return accepted;
  };

  const start = async () => {
    const serverCertificateManager = new OPCUACertificateManager({
      rootFolder: path.join(pkiDir, 'server'),
      automaticallyAcceptUnknownCertificate: opts.trustClients ?? true,
    });
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: path.join(pkiDir, 'user'),
      automaticallyAcceptUnknownCertificate: opts.trustClients ?? true,
    });
    const s = new OPCUAServer({
      port,
      hostname: '127.0.0.1',
      alternateHostname: ['localhost'],
      securityModes: modes.map((m) => MODES[m]),
      securityPolicies: [
        ...(modes.includes('None') ? [SecurityPolicy.None] : []),
        ...(modes.some((m) => m !== 'None') ? [SecurityPolicy.Basic256Sha256] : []),
      ],
      allowAnonymous: opts.allowAnonymous ?? true,
      userManager: { isValidUser },
      serverCertificateManager,
      userCertificateManager,
      ...(opts.certificate ? { certificateFile: opts.certificate.certificateFile, privateKeyFile: opts.certificate.privateKeyFile } : {}),
      serverInfo: { applicationName: { text: productName }, applicationUri: `urn:millwright-test:${port}` },
      buildInfo: { productName, manufacturerName: 'Millwright tests', softwareVersion: '1.0.0' },
      maxConnectionsPerEndpoint: 50,
      serverCapabilities: { maxSessions: opts.maxSessions ?? 50 },
    });
    await s.initialize();
    buildAddressSpace(s);
    await s.start();
    server = s;
  };

  await start();
  const der = certificateOf(server!);
  const running: RunningOpcUaServer = {
    url: `opc.tcp://127.0.0.1:${port}`,
    port,
    pkiDir,
    certificateThumbprint: thumbprint(der),
    certificateDer: der,
    productName,
    logins: () => logins,
    server: () => {
      if (!server) throw new Error('the OPC UA test server is stopped');
      return server;
    },
    stop: async ({ removePki = false } = {}) => {
      const s = server;
      server = null;
      if (s) await s.shutdown(0);
      if (removePki && ownPki) fs.rmSync(pkiDir, { recursive: true, force: true });
    },
    restart: async () => {
      const s = server;
      server = null;
      if (s) await s.shutdown(0);
      await start();
    },
  };
  return running;
}

/** The server's own certificate, DER. */
function certificateOf(server: OPCUAServer): Buffer {
  return Buffer.from(server.getCertificate());
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  // stdout carries the one JSON line; node-opcua's own messages go to stderr.
  const toStderr = (_context?: unknown, ...args: unknown[]) => console.error(...args);
  setWarningLogger(toStderr);
  setErrorLogger(toStderr);
  const args = process.argv.slice(2);
  const port = argValue(args, '--port');
  const user = argValue(args, '--user');
  const users: Record<string, string> = {};
  if (user) {
    const [name = '', ...pw] = user.split(':');
    users[name] = pw.join(':');
  }
  const srv = await startOpcUaServer({
    port: port ? Number(port) : undefined,
    securityModes: args.includes('--secure') ? ['None', 'Sign', 'SignAndEncrypt'] : ['None'],
    allowAnonymous: !args.includes('--no-anonymous'),
    users,
    pkiDir: argValue(args, '--pki'),
  });
  process.stdout.write(JSON.stringify({ url: srv.url, port: srv.port, certificateThumbprint: srv.certificateThumbprint, pkiDir: srv.pkiDir }) + '\n');
  const bye = () => {
    void srv.stop({ removePki: true }).finally(() => process.exit(0));
  };
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
