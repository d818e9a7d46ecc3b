/**
 * The OPC UA source driver (node-opcua): connect with the chosen security and
 * identity, browse and search the address space, read, and subscribe.
 *
 * Trust in a server certificate is a person's decision: before a secure
 * channel is opened the driver fetches the server's certificate over an
 * unsecured discovery channel and refuses (untrusted_certificate, with the
 * certificate's details) unless its thumbprint is in `trusted`; a trusted
 * certificate that is expired or not valid yet (by this PC's clock) is refused
 * too, since node-opcua does not check the dates of a certificate it is
 * handed. node-opcua's
 * own reconnection is off (maxRetry 0): a lost connection is reported once
 * through onLost and the recorder opens a fresh one.
 *
 * Sessions are few on a PLC, so none is left behind on the server: a lost
 * connection still sends its CloseSession (a short outage delivers it), the
 * next connection to the same server takes over and closes one whose close
 * got no answer before it opens its own, and the session timeout asked for
 * is a minute (OPCUA_TIMING).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AttributeIds,
  BrowseDirection,
  ClientMonitoredItemGroup,
  CloseSessionRequest,
  DataType,
  LogLevel,
  MessageSecurityMode,
  NodeClass,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  VariantArrayType,
  browseAll2,
  resolveNodeId,
  setErrorLogger,
  setLogLevel,
  setWarningLogger,
  type BrowseDescriptionOptions,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type EndpointDescription,
  type NodeId,
  type ReferenceDescription,
  type StatusCode,
  type UserIdentityInfo,
  type Variant,
} from 'node-opcua-client';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type { BrowseNode, BrowseResult, CertificateInfo, LiveValue, OpcUaSettings, Tag } from '../../../shared/recording';
import { ConnectError, type ConnectOptions, type Driver, type DriverConnection, type Sample, type Subscription } from './driver';

// node-opcua logs warnings (certificate chatter, Node version notes) to stdout, where the CLI writes
// its output: keep errors only, on stderr.
if (!process.env.NODEOPCUA_LOG_LEVEL) setLogLevel(LogLevel.Error);
const toStderr = (_context?: unknown, ...args: unknown[]) => console.error('[node-opcua]', ...args);
setErrorLogger(toStderr);
setWarningLogger(toStderr);

const OBJECTS_FOLDER = 'ns=0;i=85';
const HAS_PROPERTY = 'ns=0;i=46';
const HIERARCHICAL_REFERENCES = 'ns=0;i=33';
/** Search limits: nodes looked at, nodes returned. */
export const SEARCH_LIMITS = { visited: 2000, results: 200 } as const;

const MODE: Record<OpcUaSettings['securityMode'], MessageSecurityMode> = {
  none: MessageSecurityMode.None,
  sign: MessageSecurityMode.Sign,
  signAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};
const MODE_WORDS: Record<number, string> = {
  [MessageSecurityMode.None]: 'None',
  [MessageSecurityMode.Sign]: 'Sign',
  [MessageSecurityMode.SignAndEncrypt]: 'Sign and encrypt',
};

const NUMERIC_TYPES = new Set<DataType>([
  DataType.Boolean,
  DataType.SByte,
  DataType.Byte,
  DataType.Int16,
  DataType.UInt16,
  DataType.Int32,
  DataType.UInt32,
  DataType.Int64,
  DataType.UInt64,
  DataType.Float,
  DataType.Double,
]);

// ---------------------------------------------------------------- certificates

/** SHA-1 of DER bytes, upper-case hex with colons (as UaExpert and Windows show it). */
export function thumbprintOf(der: Buffer): string {
  return crypto.createHash('sha1').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** The first certificate of a DER chain (servers may send their certificate followed by its issuers). */
export function firstCertificate(chain: Buffer): Buffer {
  if (chain.length < 2 || chain[0] !== 0x30) return chain;
  let len = chain[1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + chain[2 + i]!;
    head = 2 + n;
  }
  return chain.subarray(0, Math.min(chain.length, head + len));
}

/** What a person needs to decide whether to trust a server certificate (DER, or a chain whose first is the server's). */
export function certificateInfo(der: Buffer): CertificateInfo {
  const leaf = firstCertificate(der);
  const x = new crypto.X509Certificate(leaf);
  const validFrom = new Date(x.validFrom);
  const validTo = new Date(x.validTo);
  const now = Date.now();
  const uri = /URI:([^,\s]+)/.exec(x.subjectAltName ?? '');
  const names = (s: string) => s.split('\n').filter(Boolean).join(', ');
  return {
    thumbprint: thumbprintOf(leaf),
    subject: names(x.subject),
    issuer: names(x.issuer),
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    applicationUri: uri?.[1] ?? null,
    expired: now < validFrom.getTime() || now > validTo.getTime(),
  };
}

/** A day as a plant engineer reads it, e.g. "12 March 2026" (this PC's time zone). */
function dayOf(d: Date | string): string {
  return new Date(d).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

/**
 * Why a trusted server certificate that is outside its validity dates is not
 * used: an expired certificate is the administrator's to renew; dates that look
 * wrong point at this PC's clock, so today's date by this PC is shown.
 */
function outsideDatesMessage(info: CertificateInfo, at: string, now = new Date()): string {
  const early = now.getTime() < Date.parse(info.validFrom);
  const what = early
    ? `The certificate of the server at ${at} is valid only from ${dayOf(info.validFrom)}, so Millwright will not use it yet.`
    : `The certificate of the server at ${at} expired on ${dayOf(info.validTo)}, so Millwright will not use it.`;
  return `${what} Ask the server's administrator to renew it, then trust the new certificate here. If that date looks wrong, check this PC's clock: it says today is ${dayOf(now)}.`;
}

/** Where Millwright's own certificate is, for a server administrator to trust. */
export function ownCertificateFile(pkiDir: string): string {
  return path.join(pkiDir, 'own', 'certs', 'client_certificate.pem');
}

// ---------------------------------------------------------------- connect

interface Endpoint {
  url: string;
  host: string;
  port: number;
}

/** opc.tcp://host:port[/path] or a ConnectError('bad_url'). */
export function parseEndpointUrl(raw: string): Endpoint {
  const url = raw.trim();
  const m = /^opc\.tcp:\/\/(\[[^\]]+\]|[^/:\s[\]]+)(?::(\d*))?(\/\S*)?$/i.exec(url);
  if (!m) {
    throw new ConnectError('bad_url', `"${raw}" is not an OPC UA address. Write it as opc.tcp://host:port, for example opc.tcp://192.168.0.10:4840.`);
  }
  if (m[2] === undefined || m[2] === '') {
    throw new ConnectError('bad_url', `"${raw}" has no port. Add the server's port, usually 4840: opc.tcp://${m[1]}:4840${m[3] ?? ''}.`);
  }
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new ConnectError('bad_url', `"${raw}": the port must be a number from 1 to 65535.`);
  return { url, host: m[1]!, port };
}

function policyUri(name: OpcUaSettings['securityPolicy']): string {
  return SecurityPolicy[name];
}
function policyName(uri: string | null | undefined): string {
  return (uri ?? '').split('#').pop() || 'None';
}

function describeEndpoint(e: EndpointDescription): string {
  return e.securityMode === MessageSecurityMode.None ? 'None' : `${MODE_WORDS[e.securityMode]} (${policyName(e.securityPolicyUri)})`;
}

async function readUserIdentity(s: OpcUaSettings, password: string | undefined): Promise<UserIdentityInfo> {
  if (s.auth === 'password') {
    if (!s.username) throw new ConnectError('wrong_credentials', 'Enter the user name to log in with.');
    return { type: UserTokenType.UserName, userName: s.username, password: password ?? '' };
  }
  if (s.auth === 'certificate') {
    if (!s.userCertificateFile || !s.userKeyFile) {
      throw new ConnectError('wrong_credentials', 'Pick the user certificate file and its private key file to log in with a certificate.');
    }
    let cert: Buffer;
    let key: string;
    try {
      cert = await fs.promises.readFile(s.userCertificateFile);
    } catch {
      throw new ConnectError('other', `Cannot read the user certificate ${s.userCertificateFile}. Check that the file exists.`);
    }
    try {
      key = await fs.promises.readFile(s.userKeyFile, 'utf8');
    } catch {
      throw new ConnectError('other', `Cannot read the private key ${s.userKeyFile}. Check that the file exists.`);
    }
    let der: Buffer;
    try {
      der = Buffer.from(new crypto.X509Certificate(cert).raw);
    } catch {
      throw new ConnectError('other', `${s.userCertificateFile} is not a certificate (PEM or DER).`);
    }
    try {
      crypto.createPrivateKey(key);
    } catch {
      throw new ConnectError('other', `${s.userKeyFile} is not a private key in PEM format (or it is protected by a passphrase, which Millwright cannot use).`);
    }
    return { type: UserTokenType.Certificate, certificateData: der, privateKey: key };
  }
  return { type: UserTokenType.Anonymous };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.message} ${(err as { code?: string }).code ?? ''}`;
  return String(err);
}

/** Any failure while connecting → a ConnectError a plant engineer can act on. */
function toConnectError(err: unknown, where: Endpoint, pkiDir: string, s: OpcUaSettings): ConnectError {
  if (err instanceof ConnectError) return err;
  const text = errorText(err);
  const at = `${where.host}:${where.port}`;
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    return new ConnectError('unreachable', `No computer called ${where.host} is known on this network. Check the address, or use the server's IP address.`);
  }
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ECONNRESET/.test(text)) {
    return new ConnectError(
      'unreachable',
      `Nothing answers at ${at}. Check the address and that the server is running; a firewall may block port ${where.port}.`,
    );
  }
  if (/ETIMEDOUT|timeout|timed out/i.test(text) && !/Bad/.test(text)) {
    return new ConnectError('timeout', `${at} did not answer in time. Check the address and that the server is running; a firewall may drop port ${where.port}.`);
  }
  const token = /Cannot find (USERNAME|CERTIFICATE|ANONYMOUS) user token policy/.exec(text);
  if (token) {
    const what = token[1] === 'USERNAME' ? 'user names and passwords' : token[1] === 'CERTIFICATE' ? 'user certificates' : 'anonymous users';
    return new ConnectError('security_mismatch', `The server at ${at} does not accept ${what} with security "${s.securityMode}". Choose another security mode under Advanced (servers often take passwords only over Sign and encrypt), or another way to log in.`);
  }
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid/.test(text)) {
    if (s.auth === 'password') return new ConnectError('wrong_credentials', `The server refused user "${s.username ?? ''}": the user name or password is wrong.`);
    if (s.auth === 'certificate') return new ConnectError('wrong_credentials', 'The server refused the user certificate. Ask its administrator to accept it.');
    return new ConnectError('wrong_credentials', 'The server does not accept anonymous users. Log in with a user name and password or a certificate.');
  }
  if (/BadCertificate(Issuer)?TimeInvalid/.test(text)) {
    // The server's own certificate was checked before connecting: these are the server judging
    // Millwright's certificate (or the user certificate) by its clock.
    return new ConnectError('rejected_by_server', ownCertificateDatesMessage(at, pkiDir, s));
  }
  if (/BadCertificate|BadSecurityChecksFailed|BadSecurityPolicyRejected|socket has been disconnected by third party/.test(text)) {
    return new ConnectError(
      'rejected_by_server',
      `The server at ${at} refused Millwright's certificate. Its administrator must trust Millwright's certificate (the file ${ownCertificateFile(pkiDir)}), usually by moving it from the server's rejected list to its trusted list; then connect again.`,
    );
  }
  if (/BadTooManySessions/.test(text)) {
    return new ConnectError(
      'other',
      `The server at ${at} has no free session left: all the sessions it allows are in use. A client that went away without closing its session (after a network drop, for example) holds it until the server's session timeout ends it: Millwright asks for one minute, other clients may ask for longer. Try again in a minute, or close other clients connected to this server (another Millwright, a SCADA, UaExpert).`,
    );
  }
  if (/BadMaxConnectionsReached|BadTcpNotEnoughResources|BadTooManyOperations/.test(text)) {
    return new ConnectError('other', `The server at ${at} has too many connections open. Close other clients or try again later.`);
  }
  const code = /Bad[A-Za-z]+/.exec(text)?.[0];
  return new ConnectError(
    'other',
    code
      ? `The server at ${at} refused the connection (${code}). Check the security settings and the user.`
      : `Could not connect to ${at}: ${firstLine(err)}`,
  );
}

/** The server refused Millwright's certificate as outside its validity dates: most often one of the two clocks is wrong. */
function ownCertificateDatesMessage(at: string, pkiDir: string, s: OpcUaSettings): string {
  const file = ownCertificateFile(pkiDir);
  let dates = '';
  try {
    const x = new crypto.X509Certificate(fs.readFileSync(file));
    dates = ` (${file}, valid from ${dayOf(x.validFrom)} to ${dayOf(x.validTo)})`;
  } catch {
    // the dates are a help, not needed to say what to do
  }
  const user = s.auth === 'certificate' && s.userCertificateFile ? ` or the user certificate ${s.userCertificateFile}` : '';
  return `The server at ${at} refused Millwright's certificate${dates}${user}: by the server's clock it is outside its validity dates. Check the date and time on the server and on this PC (it says today is ${dayOf(new Date())}).`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n').map((l) => l.trim()).find(Boolean) ?? 'unknown error';
  return line.length > 200 ? `${line.slice(0, 200)}…` : /[.!?]$/.test(line) ? line : `${line}.`;
}

/**
 * The times the driver works with: OPCUA_TIMING in the product; tests shorten
 * them through opcuaDriverWith to see a lost connection within seconds.
 */
export interface OpcUaTiming {
  /** The session timeout asked of the server, ms (see OPCUA_TIMING). */
  sessionTimeoutMs: number;
  /** When nothing came from the server for half of this, node-opcua asks it whether it is still there, ms. */
  keepAliveMs: number;
  /** A request without an answer after this long fails, ms (node-opcua waits at least 5 s). */
  requestTimeoutMs: number;
}

export const OPCUA_TIMING: Readonly<OpcUaTiming> = {
  /**
   * 60 s. A server keeps a session whose client went away without closing it
   * (a dropped network) until this much time passed without a request, and
   * PLCs allow few sessions (an S7-1500 a handful): an orphan must free its
   * place within about a minute, not after node-opcua servers' 50-minute cap
   * or the hour some servers grant. A healthy session never comes near it:
   * the keep-alive below asks every 5 s at the latest, a subscription's
   * keep-alive comes every 30 s at most (publishing every 10 s at most, 3
   * keep-alives), and the recorder's longest wait between reconnect attempts
   * is 30 s. The server may grant another value; whatever it grants is what
   * an orphan is remembered for (see reclaimOrphans).
   */
  sessionTimeoutMs: 60_000,
  keepAliveMs: 5000,
  requestTimeoutMs: 15_000,
};

/** How long closing a session (or taking over one a lost connection left) may take before the driver goes on without. */
const POLITE_CLOSE_MS = 1500;

function makeClient(cm: OPCUACertificateManager, timing: OpcUaTiming, extra: Partial<Parameters<typeof OPCUAClient.create>[0]>): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'Millwright',
    clientName: 'Millwright',
    endpointMustExist: false,
    clientCertificateManager: cm,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: timing.sessionTimeoutMs,
    keepSessionAlive: true,
    keepAliveInterval: timing.keepAliveMs,
    defaultTransactionTimeout: timing.requestTimeoutMs,
    // The driver closes its sessions itself: node-opcua's disconnect would mark a session closed
    // even when the close never reached the server, and such a session can then not be taken over.
    keepPendingSessionsOnDisconnect: true,
    ...extra,
  });
}

// ---------------------------------------------------------------- sessions left on the server

/**
 * Two public methods of node-opcua's session object (ClientSessionImpl) that
 * its ClientSession type does not list. A CloseSession sent through
 * performMessageTransaction closes the session on the server without marking
 * node-opcua's object closed, so a session whose close got no answer can
 * still be taken over by the next connection; node-opcua's own close() marks
 * it closed first, whatever the server heard.
 */
export interface SessionImpl {
  performMessageTransaction(request: CloseSessionRequest, callback: (err: Error | null, response?: unknown) => void): void;
  stopKeepAliveManager(): void;
}

function sessionImpl(session: ClientSession): SessionImpl | null {
  const s = session as unknown as Partial<SessionImpl>;
  return typeof s.performMessageTransaction === 'function' && typeof s.stopKeepAliveManager === 'function' ? (s as SessionImpl) : null;
}

/** Finds SessionImpl on a session: sessionImpl in the product; tests stand in a node-opcua that lacks it. */
export type SessionInternals = (session: ClientSession) => SessionImpl | null;

/**
 * Whether node-opcua considers the session closed (its close() ran, or it
 * told it was closed). Such a session must never be taken over: node-opcua
 * asserts it is open when the server accepts the take-over, inside a socket
 * callback, which would be an uncaught exception. A node-opcua whose session
 * does not say counts as closed.
 */
function closedForNodeOpcua(session: ClientSession): boolean {
  const s = session as unknown as { _closed?: unknown; _closeEventHasBeenEmitted?: unknown };
  return s._closed !== false || s._closeEventHasBeenEmitted === true;
}

/**
 * Asks the server to close the session and delete its subscriptions (one
 * CloseSession); true once it confirmed, or said the session was gone
 * already. Sent at once, within the call: a keep-alive failure breaks the
 * channel right after telling, and what was written before still reaches the
 * server when a short outage ends. Nothing else may follow it on this
 * session: node-opcua answers a server that no longer knows a session by
 * creating a new one.
 */
function closeOnServer(session: ClientSession, impl: SessionImpl | null): Promise<boolean> {
  // Without the internals: node-opcua's close(), which marks the session closed at once (it is
  // then never kept for a take-over, see shutdown).
  if (!impl) return session.close(true).then(() => true, () => false);
  // Its keep-alive read would come after the CloseSession.
  impl.stopKeepAliveManager();
  return new Promise<boolean>((resolve) => {
    try {
      impl.performMessageTransaction(new CloseSessionRequest({ deleteSubscriptions: true }), (err) => {
        resolve(!err || /BadSessionIdInvalid|BadSessionClosed/.test(errorText(err)));
      });
    } catch {
      resolve(false);
    }
  });
}

/**
 * Sessions of lost connections that the server may still hold: the network
 * dropped before their CloseSession got through (a reset connection, or an
 * outage longer than TCP retries). The server keeps such a session until its
 * session timeout; the next connection to the same server as the same user
 * takes it over (ActivateSession on its own channel, as OPC UA allows for a
 * client with the same certificate and user) and closes it before it opens
 * its own, so hiccups do not pile up sessions on a server that allows few.
 * Keyed by connectionKey; each is kept for the session timeout the server
 * granted, after which the server has closed it anyway.
 */
const orphans = new Map<string, Array<{ session: ClientSession; until: number }>>();
/** Per server and user: hiccups in a row faster than the session timeout. */
const MAX_ORPHANS = 10;

/**
 * Random for each run of the app, in memory only: connectionKey holds a
 * password only as an HMAC with it, so the key says nothing of the password
 * outside this process (and the key is never logged).
 */
const PASSWORD_SALT = crypto.randomBytes(32);

/**
 * Which sessions a connection may take over: same address, security, user,
 * password and certificate store (Millwright's certificate). A take-over
 * logs in again with the identity the orphan was opened with, so a password
 * changed since must not reach it: each failed login may count towards a
 * server's lockout. Not for user certificates: some servers (node-opcua's)
 * cannot compare them when a session moves and fail the request; those
 * orphans wait for the timeout.
 */
function connectionKey(opts: ConnectOptions, s: OpcUaSettings, where: Endpoint): string | null {
  if (s.auth === 'certificate') return null;
  const policy = s.securityMode === 'none' ? 'None' : s.securityPolicy;
  const password = s.auth === 'password' ? crypto.createHmac('sha256', PASSWORD_SALT).update(opts.password ?? '', 'utf8').digest('base64') : '';
  return JSON.stringify([where.url.toLowerCase(), s.securityMode, policy, s.auth, s.auth === 'password' ? (s.username ?? '') : '', password, path.resolve(opts.pkiDir)]);
}

function pruneOrphans(now: number): void {
  for (const [key, list] of orphans) {
    const live = list.filter((o) => o.until > now);
    if (live.length === 0) orphans.delete(key);
    else if (live.length !== list.length) orphans.set(key, live);
  }
}

function keepOrphan(key: string, session: ClientSession): void {
  const now = Date.now();
  pruneOrphans(now);
  const list = orphans.get(key) ?? [];
  const timeout = session.timeout > 0 ? session.timeout : OPCUA_TIMING.sessionTimeoutMs;
  list.push({ session, until: now + timeout });
  orphans.set(key, list.slice(-MAX_ORPHANS));
  // Forgotten when the server has ended it anyway, also if no connection to that server follows.
  setTimeout(() => forgetOrphan(key, session), timeout).unref();
}

function forgetOrphan(key: string, session: ClientSession): void {
  const list = orphans.get(key);
  if (!list) return;
  const rest = list.filter((o) => o.session !== session);
  if (rest.length === 0) orphans.delete(key);
  else orphans.set(key, rest);
}

/**
 * Takes over and closes the sessions lost connections left for this server
 * and user, within POLITE_CLOSE_MS: before the new session, so one that holds
 * the server's last free session gives it back first. A session the server
 * closed already is refused (BadSessionIdInvalid) and forgotten.
 */
async function reclaimOrphans(client: OPCUAClient, key: string | null): Promise<void> {
  if (key === null) return;
  pruneOrphans(Date.now());
  const list = orphans.get(key);
  if (!list) return;
  orphans.delete(key);
  const jobs = list.map(async ({ session }) => {
    // Something closed it since it was kept: node-opcua would fail on the server's yes (see closedForNodeOpcua).
    if (closedForNodeOpcua(session)) return;
    await client.reactivateSession(session);
    await session.close(true);
  });
  await withTimeout(Promise.allSettled(jobs), POLITE_CLOSE_MS);
}

/** Everything a connection attempt opened, so a failure or timeout closes it all. */
class Attempt {
  aborted = false;
  readonly clients = new Set<OPCUAClient>();
  /** The session opened on a client, closed before it is dropped. */
  readonly sessions = new Map<OPCUAClient, ClientSession>();
  constructor(readonly cm: OPCUACertificateManager) {}

  check(): void {
    if (this.aborted) throw new Error('connect aborted');
  }

  async drop(client: OPCUAClient): Promise<void> {
    if (!this.clients.delete(client)) return;
    const session = this.sessions.get(client);
    this.sessions.delete(client);
    if (session) await withTimeout(session.close(true), POLITE_CLOSE_MS);
    await withTimeout(client.disconnect(), 3000);
  }

  async cleanup(): Promise<void> {
    this.aborted = true;
    await Promise.all([...this.clients].map((c) => this.drop(c)));
    await this.cm.dispose().catch(() => undefined);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function connect(opts: ConnectOptions, timing: OpcUaTiming, internals: SessionInternals): Promise<DriverConnection> {
  const s = opts.settings;
  if (s.kind !== 'opcua') throw new ConnectError('other', 'This source is not an OPC UA server.');
  const where = parseEndpointUrl(s.url);
  const mode = MODE[s.securityMode];
  const policy = mode === MessageSecurityMode.None ? 'None' : s.securityPolicy;
  if (mode !== MessageSecurityMode.None && policy === 'None') {
    throw new ConnectError('security_mismatch', `Security mode ${MODE_WORDS[mode]} needs a security policy: pick one, for example Basic256Sha256.`);
  }
  const identity = await readUserIdentity(s, opts.password);
  const timeoutMs = opts.timeoutMs ?? 10_000;

  await fs.promises.mkdir(opts.pkiDir, { recursive: true });
  const cm = new OPCUACertificateManager({ rootFolder: opts.pkiDir, automaticallyAcceptUnknownCertificate: false });
  const attempt = new Attempt(cm);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new ConnectError(
          'timeout',
          `${where.host}:${where.port} did not answer within ${seconds(timeoutMs)}. Check the address and that the server is running; a firewall may drop port ${where.port}.`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const opening = open(opts, s, where, mode, policy, identity, attempt, timing, internals);
    // After a timeout the attempt is torn down; whatever it does later is nobody's business.
    opening.then((late) => attempt.aborted && void late.close(), () => undefined);
    return await Promise.race([opening, deadline]);
  } catch (err) {
    await attempt.cleanup();
    throw toConnectError(err, where, opts.pkiDir, s);
  } finally {
    clearTimeout(timer);
  }
}

async function open(
  opts: ConnectOptions,
  s: OpcUaSettings,
  where: Endpoint,
  mode: MessageSecurityMode,
  policy: OpcUaSettings['securityPolicy'],
  identity: UserIdentityInfo,
  attempt: Attempt,
  timing: OpcUaTiming,
  internals: SessionInternals,
): Promise<DriverConnection> {
  await attempt.cm.initialize();
  attempt.check();

  // An unsecured channel first: it is where a server tells its endpoints and certificate.
  const discovery = makeClient(attempt.cm, timing, { securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None });
  attempt.clients.add(discovery);
  await discovery.connect(where.url);
  attempt.check();
  const endpoints = (await discovery.getEndpoints()).filter((e) => !e.transportProfileUri || /uatcp-uasc-uabinary/i.test(e.transportProfileUri));
  attempt.check();
  const wanted = endpoints.find((e) => e.securityMode === mode && e.securityPolicyUri === policyUri(policy));
  if (!wanted) {
    const offered = [...new Set(endpoints.map(describeEndpoint))];
    throw new ConnectError(
      'security_mismatch',
      `The server does not offer security ${mode === MessageSecurityMode.None ? 'None' : `${MODE_WORDS[mode]} with ${policy}`}. It offers: ${offered.join('; ') || 'nothing'}. Pick one of these.`,
    );
  }
  const serverName = wanted.server?.applicationName?.text || null;

  let client = discovery;
  if (mode !== MessageSecurityMode.None) {
    const chain = wanted.serverCertificate;
    if (!chain || chain.length === 0) throw new ConnectError('other', 'The server offers a secure endpoint but sends no certificate. Ask its administrator to check its configuration.');
    const info = certificateInfo(chain);
    if (!opts.trusted.has(info.thumbprint)) {
      throw new ConnectError(
        'untrusted_certificate',
        `The server's certificate is not trusted yet. Compare its thumbprint ${info.thumbprint} with the one the server's administrator sees, then trust it to connect.`,
        info,
      );
    }
    // node-opcua does not check the dates of a certificate it is handed (serverCertificate below): a
    // trusted thumbprint stays trusted, but an expired or not yet valid certificate is not used.
    if (info.expired) throw new ConnectError('other', outsideDatesMessage(info, `${where.host}:${where.port}`), info);
    await attempt.cm.trustCertificate(firstCertificate(chain));
    attempt.check();
    await attempt.drop(discovery);
    client = makeClient(attempt.cm, timing, { securityMode: mode, securityPolicy: policyUri(policy) as SecurityPolicy, serverCertificate: chain });
    attempt.clients.add(client);
    await client.connect(where.url);
    attempt.check();
  }
  const key = connectionKey(opts, s, where);
  await reclaimOrphans(client, key);
  attempt.check();
  const session = await client.createSession(identity);
  attempt.sessions.set(client, session);
  if (attempt.aborted) {
    await withTimeout(session.close(true), POLITE_CLOSE_MS);
    attempt.check();
  }
  const limits = await readLimits(session);
  attempt.check();
  attempt.clients.delete(client);
  attempt.sessions.delete(client);
  return new OpcUaConnection(client, session, attempt.cm, serverName, where, limits, key, opts.onLost, internals);
}

interface Limits {
  read: number;
  browse: number;
}

async function readLimits(session: ClientSession): Promise<Limits> {
  const ids = ['ns=0;i=11705', 'ns=0;i=11710']; // OperationLimits MaxNodesPerRead, MaxNodesPerBrowse
  try {
    const dv = await session.read(ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
    const n = (d: DataValue | undefined): number => (d && d.statusCode.isGood() && typeof d.value.value === 'number' && d.value.value > 0 ? d.value.value : 0);
    return { read: Math.min(n(dv[0]) || 1000, 1000), browse: Math.min(n(dv[1]) || 500, 500) };
  } catch {
    return { read: 500, browse: 100 };
  }
}

// ---------------------------------------------------------------- values

/** A scalar number or boolean as a number; null for anything else. */
function numberOf(v: Variant | null | undefined): number | null {
  if (!v || v.arrayType !== VariantArrayType.Scalar) return null;
  const x: unknown = v.value;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (typeof x === 'bigint') return Number(x);
  if ((v.dataType === DataType.Int64 || v.dataType === DataType.UInt64) && Array.isArray(x) && x.length === 2) {
    const [hi, lo] = x as [number, number];
    const n = hi * 4294967296 + lo;
    return v.dataType === DataType.Int64 && hi >= 0x80000000 ? n - 2 ** 64 : n;
  }
  return null;
}

function scalarText(x: unknown): string {
  if (x instanceof Date) return x.toISOString();
  if (Buffer.isBuffer(x)) return `${x.length} bytes`;
  if (x && typeof x === 'object' && 'text' in x) return String((x as { text: unknown }).text ?? '');
  if (x && typeof x === 'object' && typeof (x as { toString?: unknown }).toString === 'function') {
    const s = String(x);
    return s === '[object Object]' ? JSON.stringify(x) : s;
  }
  return String(x);
}

/** The value as a person would read it, e.g. "true", "12.5", "Pump 1". */
function textOf(v: Variant | null | undefined): string | null {
  if (!v || v.dataType === DataType.Null || v.value === null || v.value === undefined) return null;
  const n = numberOf(v);
  // A Float holds about 7 digits: 40.1 rather than 40.099998474121094.
  if (n !== null && v.dataType === DataType.Float) return String(Number(n.toPrecision(7)));
  if (n !== null && v.dataType !== DataType.Boolean) return String(n);
  if (v.arrayType !== VariantArrayType.Scalar) {
    const items = Array.from(v.value as ArrayLike<unknown>).map(scalarText);
    const s = `[${items.join(', ')}]`;
    return s.length > 200 ? `${s.slice(0, 200)}…]` : s;
  }
  return scalarText(v.value);
}

const BAD_WORDS: Record<string, string> = {
  BadNodeIdUnknown: 'No such tag on the server',
  BadNodeIdInvalid: 'Not a valid tag id',
  BadAttributeIdInvalid: 'Not a variable: it has no value',
  BadNotReadable: 'The server does not allow reading it',
  BadUserAccessDenied: 'This user may not read it',
  BadWaitingForInitialData: 'No value yet',
};

function badText(code: StatusCode): string {
  return BAD_WORDS[code.name] ?? `The server reports a bad value (${code.name})`;
}

function liveValue(tag: string, dv: DataValue): LiveValue {
  const good = dv.statusCode.isGood();
  return {
    tag,
    value: good ? numberOf(dv.value) : null,
    text: good ? textOf(dv.value) : badText(dv.statusCode),
    quality: good ? 'good' : 'bad',
    at: dv.sourceTimestamp ? dv.sourceTimestamp.toISOString() : null,
  };
}

function parseNodeId(id: string): NodeId | null {
  try {
    return resolveNodeId(id);
  } catch {
    return null;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------- the connection

interface Ref {
  id: string;
  name: string;
  browseName: string;
  nodeClass: NodeClass;
  referenceTypeId: string;
}

function refOf(r: ReferenceDescription): Ref {
  return {
    id: r.nodeId.toString(),
    name: r.displayName?.text || r.browseName?.name || r.nodeId.toString(),
    browseName: r.browseName?.name ?? '',
    nodeClass: r.nodeClass,
    referenceTypeId: r.referenceTypeId?.toString() ?? '',
  };
}

/** A standard (namespace 0) node under Objects, such as Server: never plant data. */
function isStandard(id: string): boolean {
  return id.startsWith('ns=0;') || id.startsWith('i=');
}

/** An open OPC UA session; browseWith is exported for tests of the search limits. */
export class OpcUaConnection implements DriverConnection {
  private closed = false;
  private lostReported = false;
  private readonly subscriptions = new Set<ClientSubscription>();
  /** Node id → slash path from Objects, learned while browsing. */
  private readonly paths = new Map<string, string>([[OBJECTS_FOLDER, '']]);
  private readonly classes = new Map<string, NodeClass>();

  constructor(
    private readonly client: OPCUAClient,
    private readonly session: ClientSession,
    private readonly cm: OPCUACertificateManager,
    readonly serverName: string | null,
    private readonly where: Endpoint,
    private readonly limits: Limits,
    /** For sessions left on the server (connectionKey); null: not taken over. */
    private readonly key: string | null,
    private readonly onLost: ((reason: string) => void) | undefined,
    private readonly internals: SessionInternals = sessionImpl,
  ) {
    const at = `${where.host}:${where.port}`;
    client.on('connection_lost', () => this.lost(`Lost the connection to ${at}: the server closed it or the network dropped.`));
    client.on('close', (err?: Error | null) => {
      if (err) this.lost(`Lost the connection to ${at}: the server closed it or the network dropped.`);
    });
    client.on('start_reconnection', () => this.lost(`Lost the connection to ${at}.`));
    session.on('session_closed', () => this.lost(`The server at ${at} ended the session.`));
    session.on('keepalive_failure', () => this.lost(`The server at ${at} stopped answering.`));
  }

  private lost(reason: string): void {
    if (this.closed || this.lostReported) return;
    this.lostReported = true;
    // Not awaited: the recorder reconnects at once, and the new connection takes over this
    // session if the server has not confirmed its close by then.
    void this.shutdown();
    try {
      this.onLost?.(reason);
    } catch {
      // the recorder's handler failing must not break node-opcua's event loop
    }
  }

  async close(): Promise<void> {
    await this.shutdown();
  }

  private shutdownDone: Promise<void> | null = null;

  /**
   * Closes the session on the server, whether the connection was closed or
   * lost: the channel may still work (a keep-alive that failed on a slow
   * answer) and a short outage delivers what was sent into it. Until the
   * server confirms, within POLITE_CLOSE_MS, the session is remembered for the
   * next connection to take over (keepOrphan); then the client disconnects.
   * Without node-opcua's internals the close is its close(), which marks the
   * session closed whatever the server heard: such a session is never kept,
   * it ends with the server's session timeout if the close got lost.
   */
  private shutdown(): Promise<void> {
    this.closed = true;
    this.shutdownDone ??= (async () => {
      const subs = [...this.subscriptions];
      this.subscriptions.clear();
      const impl = this.internals(this.session);
      const key = impl ? this.key : null;
      if (key !== null) keepOrphan(key, this.session);
      const confirmed = await withTimeout(closeOnServer(this.session, impl), POLITE_CLOSE_MS);
      if (confirmed && key !== null) forgetOrphan(key, this.session);
      await withTimeout(this.client.disconnect(), 2000);
      // The session is off the client now: this only stops node-opcua's publishing for them (the
      // CloseSession deleted them on the server).
      await withTimeout(Promise.all(subs.map((sub) => sub.terminate().catch(() => undefined))), 1000);
      await this.cm.dispose().catch(() => undefined);
    })();
    return this.shutdownDone;
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new ConnectError('other', `The connection to ${this.where.host}:${this.where.port} is closed. Connect again.`);
    }
  }

  // -------------------------------------------------------------- read

  /** Runs a service call; node-opcua's failures become a sentence (a lost connection says so). */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      const at = `${this.where.host}:${this.where.port}`;
      if (this.closed) throw new ConnectError('other', `The connection to ${at} was lost while ${what}. Connect again.`);
      const code = /Bad[A-Za-z]+/.exec(errorText(err))?.[0];
      throw new ConnectError('other', code ? `The server at ${at} refused ${what} (${code}).` : `Failed ${what} on ${at}: ${firstLine(err)}`);
    }
  }

  read(tags: string[]): Promise<LiveValue[]> {
    return this.guard('reading the tags', () => this.readNow(tags));
  }

  private async readNow(tags: string[]): Promise<LiveValue[]> {
    const out: LiveValue[] = tags.map((tag) => ({ tag, value: null, text: 'Not a valid tag id', quality: 'bad', at: null }));
    const toRead = tags.map((tag, i) => ({ i, nodeId: parseNodeId(tag) })).filter((x): x is { i: number; nodeId: NodeId } => x.nodeId !== null);
    for (const part of chunks(toRead, this.limits.read)) {
      const values = await this.session.read(
        part.map((x) => ({ nodeId: x.nodeId, attributeId: AttributeIds.Value })),
        0,
      );
      part.forEach((x, k) => (out[x.i] = liveValue(tags[x.i]!, values[k]!)));
    }
    return out;
  }

  // -------------------------------------------------------------- browse

  private async children(ids: string[]): Promise<Ref[][]> {
    const out: Ref[][] = [];
    for (const part of chunks(ids, this.limits.browse)) {
      const descs: BrowseDescriptionOptions[] = part.map((id) => ({
        nodeId: id,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: HIERARCHICAL_REFERENCES,
        includeSubtypes: true,
        nodeClassMask: NodeClass.Object | NodeClass.Variable,
        resultMask: 0x3f,
      }));
      const results = await browseAll2(this.session, descs);
      for (const r of results) out.push(r.statusCode.isGood() ? (r.references ?? []).map(refOf) : []);
    }
    return out;
  }

  /** The children shown for a node: a Variable's properties (units, ranges) are its metadata, not tags. */
  private shown(parentClass: NodeClass | undefined, refs: Ref[]): Ref[] {
    const seen = new Set<string>();
    return refs.filter((r) => {
      if (seen.has(r.id)) return false;
      seen.add(r.id);
      return !(parentClass === NodeClass.Variable && r.referenceTypeId === HAS_PROPERTY);
    });
  }

  private async pathOf(id: string): Promise<string> {
    const known = this.paths.get(id);
    if (known !== undefined) return known;
    const names: string[] = [];
    let current = id;
    for (let depth = 0; depth < 30; depth++) {
      const cached = this.paths.get(current);
      if (cached !== undefined) {
        if (cached) names.unshift(cached);
        break;
      }
      const [self, up] = await Promise.all([
        this.session.read({ nodeId: current, attributeId: AttributeIds.DisplayName }),
        this.session.browse({
          nodeId: current,
          browseDirection: BrowseDirection.Inverse,
          referenceTypeId: HIERARCHICAL_REFERENCES,
          includeSubtypes: true,
          resultMask: 0x3f,
        }),
      ]);
      const name = (self.value?.value as { text?: string } | null)?.text ?? current;
      names.unshift(name);
      const parent = up.references?.[0]?.nodeId.toString();
      if (!parent || parent === 'ns=0;i=84') break;
      current = parent;
    }
    const p = names.join('/');
    this.paths.set(id, p);
    return p;
  }

  private async nodeClassOf(id: string): Promise<NodeClass | undefined> {
    const known = this.classes.get(id);
    if (known !== undefined) return known;
    const dv = await this.session.read({ nodeId: id, attributeId: AttributeIds.NodeClass });
    if (!dv.statusCode.isGood()) return undefined;
    const c = dv.value.value as NodeClass;
    this.classes.set(id, c);
    return c;
  }

  /** Full BrowseNodes for refs: children (one level down), data type, unit and value. */
  private async describe(refs: Array<Ref & { path: string }>): Promise<BrowseNode[]> {
    const grand = await this.children(refs.map((r) => r.id));
    const variables = refs.map((r, i) => ({ r, i })).filter((x) => x.r.nodeClass === NodeClass.Variable);
    const euIds = new Map<number, string>();
    for (const { i } of variables) {
      const eu = grand[i]!.find((g) => g.referenceTypeId === HAS_PROPERTY && g.browseName === 'EngineeringUnits');
      if (eu) euIds.set(i, eu.id);
    }
    const reads: Array<{ nodeId: string; attributeId: number }> = [];
    for (const { r } of variables) {
      reads.push({ nodeId: r.id, attributeId: AttributeIds.Value }, { nodeId: r.id, attributeId: AttributeIds.DataType }, { nodeId: r.id, attributeId: AttributeIds.ValueRank });
    }
    for (const id of euIds.values()) reads.push({ nodeId: id, attributeId: AttributeIds.Value });
    const values: DataValue[] = [];
    for (const part of chunks(reads, this.limits.read)) values.push(...(await this.session.read(part, 0)));

    const byIndex = new Map<number, { value: DataValue; dataType: DataValue; valueRank: DataValue; eu?: DataValue }>();
    variables.forEach(({ i }, k) => byIndex.set(i, { value: values[3 * k]!, dataType: values[3 * k + 1]!, valueRank: values[3 * k + 2]! }));
    let e = 3 * variables.length;
    for (const i of euIds.keys()) byIndex.get(i)!.eu = values[e++];

    return refs.map((r, i) => {
      this.paths.set(r.id, r.path);
      this.classes.set(r.id, r.nodeClass);
      const hasChildren = this.shown(r.nodeClass, grand[i] ?? []).length > 0;
      const v = byIndex.get(i);
      if (!v) {
        return { id: r.id, name: r.name, path: r.path, kind: 'folder', hasChildren, dataType: null, numeric: false, unit: null, value: null };
      }
      const builtin = builtinOf(v.dataType, v.value);
      const scalar = !v.valueRank.statusCode.isGood() || v.valueRank.value.value === -1 || v.valueRank.value.value === 0;
      const numeric = builtin !== null && NUMERIC_TYPES.has(builtin) && scalar && (!v.value.statusCode.isGood() || v.value.value.arrayType === VariantArrayType.Scalar);
      return {
        id: r.id,
        name: r.name,
        path: r.path,
        kind: 'variable',
        hasChildren,
        dataType: builtin !== null ? DataType[builtin] : dataTypeLabel(v.dataType),
        numeric,
        unit: unitOf(v.eu),
        value: browseValue(v.value),
      };
    });
  }

  async browse(opts: { parent?: string; search?: string; listenMs?: number }): Promise<BrowseResult> {
    return this.browseWith(opts, SEARCH_LIMITS);
  }

  /** browse() with the search limits as a parameter (tests use small ones). */
  browseWith(opts: { parent?: string; search?: string }, limits: { visited: number; results: number }): Promise<BrowseResult> {
    return this.guard(opts.search ? 'searching its tags' : 'browsing its tags', () => this.browseNow(opts, limits));
  }

  private async browseNow(opts: { parent?: string; search?: string }, limits: { visited: number; results: number }): Promise<BrowseResult> {
    const search = opts.search?.trim().toLowerCase();
    if (search) return this.search(search, limits);
    const parent = opts.parent?.trim() || OBJECTS_FOLDER;
    const parentId = parseNodeId(parent);
    if (!parentId) throw new ConnectError('other', `"${parent}" is not a node id of this server.`);
    const id = parentId.toString();
    const [cls, parentPath, [refs]] = await Promise.all([this.nodeClassOf(id), id === OBJECTS_FOLDER ? '' : this.pathOf(id), this.children([id])]);
    let kids = this.shown(cls, refs ?? []);
    if (!opts.parent) kids = kids.filter((r) => !isStandard(r.id));
    const nodes = await this.describe(kids.map((r) => ({ ...r, path: parentPath ? `${parentPath}/${r.name}` : r.name })));
    return { nodes, truncated: false };
  }

  private async search(needle: string, limits: { visited: number; results: number }): Promise<BrowseResult> {
    const visited = new Set<string>([OBJECTS_FOLDER]);
    const matches: Array<Ref & { path: string }> = [];
    let truncated = false;
    let frontier: Array<Ref & { path: string }> = [{ id: OBJECTS_FOLDER, name: 'Objects', browseName: 'Objects', nodeClass: NodeClass.Object, referenceTypeId: '', path: '' }];
    let count = 0;
    outer: while (frontier.length > 0) {
      const lists = await this.children(frontier.map((f) => f.id));
      const next: Array<Ref & { path: string }> = [];
      for (let i = 0; i < frontier.length; i++) {
        const parent = frontier[i]!;
        for (const r of this.shown(parent.nodeClass, lists[i] ?? [])) {
          if (parent.id === OBJECTS_FOLDER && isStandard(r.id)) continue;
          if (visited.has(r.id)) continue;
          if (count >= limits.visited) {
            truncated = true;
            break outer;
          }
          visited.add(r.id);
          count++;
          const node = { ...r, path: parent.path ? `${parent.path}/${r.name}` : r.name };
          if (node.name.toLowerCase().includes(needle) || node.path.toLowerCase().includes(needle)) {
            if (matches.length >= limits.results) {
              truncated = true;
              break outer;
            }
            matches.push(node);
          }
          next.push(node);
        }
      }
      frontier = next;
    }
    return { nodes: await this.describe(matches), truncated };
  }

  // -------------------------------------------------------------- subscribe

  subscribe(tags: Tag[], intervalMs: number, onSample: (s: Sample) => void): Promise<Subscription> {
    return this.guard('watching the tags', () => this.subscribeNow(tags, intervalMs, onSample));
  }

  private async subscribeNow(tags: Tag[], intervalMs: number, onSample: (s: Sample) => void): Promise<Subscription> {
    if (tags.length === 0) throw new ConnectError('other', 'Pick at least one tag to record.');
    const interval = Math.max(100, Math.round(intervalMs));
    const current = await this.readNow(tags.map((t) => t.id));
    current.forEach((v, i) => {
      if (v.quality === 'good') return;
      const t = tags[i]!;
      const label = t.name && t.name !== t.id ? `${t.id} (${t.name})` : t.id;
      if (v.text === BAD_WORDS.BadNodeIdUnknown || v.text === BAD_WORDS.BadNodeIdInvalid) {
        throw new ConnectError('other', `The server has no tag ${label}. It may have been renamed or removed: pick the tags again.`);
      }
      if (v.text === BAD_WORDS.BadAttributeIdInvalid) throw new ConnectError('other', `${label} is a folder or object, not a variable with a value: pick a variable.`);
      if (v.text === BAD_WORDS.BadNotReadable || v.text === BAD_WORDS.BadUserAccessDenied) {
        throw new ConnectError('other', `The server does not let this user read ${label}. Ask its administrator for read access.`);
      }
    });

    // Publishing at most every 10 s keeps data (and keep-alives) flowing even for slow sampling.
    const publishing = Math.min(interval, 10_000);
    const keepAlive = Math.max(3, Math.ceil(10_000 / publishing));
    const subscription = await this.session.createSubscription2({
      requestedPublishingInterval: publishing,
      requestedMaxKeepAliveCount: keepAlive,
      requestedLifetimeCount: keepAlive * 6,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscriptions.add(subscription);
    let closing = false;
    subscription.on('terminated', () => {
      if (!closing) this.lost(`The server at ${this.where.host}:${this.where.port} ended the subscription.`);
    });
    const queueSize = Math.max(10, Math.ceil((2 * publishing) / interval));
    const group = ClientMonitoredItemGroup.create(
      subscription,
      tags.map((t) => ({ nodeId: t.id, attributeId: AttributeIds.Value })),
      { samplingInterval: interval, discardOldest: true, queueSize },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_item, dv: DataValue, index: number) => {
      if (closing) return;
      const good = dv.statusCode.isGood();
      onSample({
        tag: tags[index]!.id,
        t: dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? Date.now(),
        value: good ? numberOf(dv.value) : null,
        quality: good ? 'good' : 'bad',
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('err', (message: string) => reject(new ConnectError('other', `The server refused to watch the tags: ${message}`)));
        timer = setTimeout(() => reject(new ConnectError('timeout', 'The server did not confirm the tags to watch within 15 s.')), 15_000);
      });
    } catch (err) {
      closing = true;
      this.subscriptions.delete(subscription);
      await withTimeout(subscription.terminate(), 1500);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return {
      close: async () => {
        if (closing) return;
        closing = true;
        this.subscriptions.delete(subscription);
        if (!this.closed) await withTimeout(subscription.terminate(), 1500);
      },
    };
  }
}

function builtinOf(dataType: DataValue, value: DataValue): DataType | null {
  if (dataType.statusCode.isGood()) {
    const id = dataType.value.value as NodeId | null;
    if (id && id.namespace === 0 && typeof id.value === 'number' && id.value >= 1 && id.value <= 25) return id.value as DataType;
  }
  if (value.statusCode.isGood() && value.value.dataType !== DataType.Null) return value.value.dataType;
  return null;
}

function dataTypeLabel(dataType: DataValue): string | null {
  return dataType.statusCode.isGood() && dataType.value.value ? String(dataType.value.value) : null;
}

function unitOf(eu: DataValue | undefined): string | null {
  if (!eu || !eu.statusCode.isGood()) return null;
  const x = eu.value.value as { displayName?: { text?: string | null } } | null;
  return x?.displayName?.text || null;
}

function browseValue(dv: DataValue): number | string | boolean | null {
  if (!dv.statusCode.isGood()) return null;
  const v = dv.value;
  if (v.arrayType === VariantArrayType.Scalar && typeof v.value === 'boolean') return v.value;
  const n = numberOf(v);
  if (n !== null) return n;
  return textOf(v);
}

/** The OPC UA driver. */
export const opcuaDriver: Driver = opcuaDriverWith({});

/**
 * The OPC UA driver with some of its times changed (tests). `internals`
 * stands in for how the driver finds node-opcua's session internals, to see
 * it work with a node-opcua that no longer has them.
 */
export function opcuaDriverWith(timing: Partial<OpcUaTiming>, o: { internals?: SessionInternals } = {}): Driver {
  const t: OpcUaTiming = { ...OPCUA_TIMING, ...timing };
  const internals = o.internals ?? sessionImpl;
  return { connect: (opts) => connect(opts, t, internals) };
}

