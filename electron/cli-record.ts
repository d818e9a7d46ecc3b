/**
 * `millwright record` and `millwright recordings`: live plant data from the
 * command line (issue 10). Everything is checked before anything is saved:
 * flags, the connection and the tags; a bad flag or a server that cannot be
 * reached exits 2 with the workspace as it was.
 */
import { AppError } from '../shared/errors';
import { formatBytes } from '../shared/format';
import {
  OPCUA_SECURITY_POLICIES,
  REBIRTH_APP_HINT,
  RECORDING_INTERVAL,
  SourceSettingsSchema,
  RECORDING_STATE_TITLES,
  recordingNeedsAttention,
  type ConnectResult,
  type Recording,
  type SourceSettings,
} from '../shared/recording';
import type { Core } from './services/compose';

export interface RecordCli {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  core(): Core;
  flag(name: string): string | undefined;
  has(name: string): boolean;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "1s", "5 min", "1h", "2d" (a bare number is seconds) into ms; null when it is none of these. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/i.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function durationFlag(cli: RecordCli, name: string, min: number, max: number): number | undefined {
  const text = cli.flag(name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === null || ms < min || ms > max) throw new AppError('bad_input', `--${name} must be a duration like 500ms, 1s, 5min, 1h or 2d, between ${min} ms and ${Math.round(max / 86_400_000)} days (got "${text}").`, name);
  return ms;
}

function passwordFrom(cli: RecordCli): string | undefined {
  const env = cli.flag('password-env');
  if (env === undefined) return undefined;
  const value = process.env[env];
  if (value === undefined) throw new AppError('bad_input', `--password-env names ${env}, but no such environment variable is set.`, 'password-env');
  return value;
}

/** The settings the flags describe (no connection yet). */
export function recordSettings(kind: string | undefined, url: string | undefined, cli: RecordCli): SourceSettings {
  if (kind !== 'opcua' && kind !== 'mqtt') throw new AppError('bad_input', 'Record from what? Usage: millwright record opcua URL --tags A,B … or millwright record mqtt URL --topic T …');
  if (!url) throw new AppError('bad_input', `Which server? Usage: millwright record ${kind} ${kind === 'opcua' ? 'opc.tcp://HOST:4840' : 'mqtt://HOST:1883'} …`);
  if (/^[a-z][a-z0-9.+-]*:\/\/[^/?#]*@/i.test(url)) throw new AppError('bad_input', 'Give the user name with --user and the password with --password-env, not in the address (it would be stored and shown in clear).', 'url');
  const username = cli.flag('user');
  if (kind === 'opcua' && cli.has('rebirth')) throw new AppError('bad_input', '--rebirth is for Sparkplug B edge nodes on an MQTT broker: it goes with record mqtt … --payload sparkplug.', 'rebirth');
  if (kind === 'opcua') {
    if (!/^opc\.tcp:\/\/[^/\s:]+(:\d+)?(\/.*)?$/i.test(url)) throw new AppError('bad_input', `"${url}" is not an OPC UA address; it looks like opc.tcp://192.168.0.10:4840.`, 'url');
    const sec = cli.flag('security') ?? 'none';
    const mode = ({ none: 'none', sign: 'sign', encrypt: 'signAndEncrypt', signandencrypt: 'signAndEncrypt' } as const)[sec.toLowerCase() as 'none'];
    if (!mode) throw new AppError('bad_input', `--security must be none, sign or encrypt (got "${sec}").`, 'security');
    const policy = cli.flag('policy') ?? (mode === 'none' ? 'None' : 'Basic256Sha256');
    if (!(OPCUA_SECURITY_POLICIES as readonly string[]).includes(policy)) throw new AppError('bad_input', `--policy must be one of ${OPCUA_SECURITY_POLICIES.join(', ')} (got "${policy}").`, 'policy');
    if ((mode === 'none') !== (policy === 'None')) throw new AppError('bad_input', mode === 'none' ? `--policy ${policy} needs --security sign or encrypt.` : `--security ${sec} needs a policy other than None, e.g. --policy Basic256Sha256.`, 'policy');
    return { kind, url, securityMode: mode, securityPolicy: policy as (typeof OPCUA_SECURITY_POLICIES)[number], auth: username ? 'password' : 'anonymous', ...(username ? { username } : {}) };
  }
  if (!/^(mqtts?|wss?):\/\/[^/\s]+/i.test(url)) throw new AppError('bad_input', `"${url}" is not an MQTT broker address; it looks like mqtt://broker.local:1883 (or mqtts://, ws://, wss://).`, 'url');
  const topic = cli.flag('topic');
  if (!topic) throw new AppError('bad_input', 'Which topic? Give --topic, e.g. --topic plant/pump1 or --topic "plant/#".', 'topic');
  const payload = cli.flag('payload') ?? 'json';
  if (payload !== 'json' && payload !== 'number' && payload !== 'sparkplug') throw new AppError('bad_input', `--payload must be json, number or sparkplug (got "${payload}").`, 'payload');
  // Asking edge nodes for their births again is a write to the broker: only when asked for.
  const rebirth = cli.has('rebirth');
  if (rebirth && payload !== 'sparkplug') throw new AppError('bad_input', `--rebirth is for Sparkplug B edge nodes: it goes with --payload sparkplug (got --payload ${payload}).`, 'rebirth');
  const ca = cli.flag('ca');
  return { kind, url, topic, payload, rejectUnauthorized: true, rebirth, ...(username ? { username } : {}), ...(ca ? { caFile: ca } : {}) };
}

function describeRecording(r: Recording): string {
  const lines = [
    `Recording ${r.id}: ${r.name}`,
    `  state     ${RECORDING_STATE_TITLES[r.state]}: ${r.message}`,
    `  source    ${r.source.name} (${r.source.url})`,
    `  tags      ${r.tags.map((t) => (t.name === t.id ? t.id : `${t.name} (${t.id})`)).join(', ')}`,
    `  samples   ${r.samples.toLocaleString('en-US')} in ${r.gaps} gap${r.gaps === 1 ? '' : 's'}, ${formatBytes(r.bytes)}`,
    `  from      ${r.firstSampleAt ?? '–'}`,
    `  to        ${r.lastSampleAt ?? '–'}`,
  ];
  if (r.datasets.length) lines.push(`  datasets  ${r.datasets.map((d) => `${d.name}@${d.version}`).join(', ')}`);
  return lines.join('\n');
}

function connectFailure(r: ConnectResult, kind: string, url: string): AppError {
  let msg = r.message;
  if (r.problem === 'untrusted_certificate' && r.certificate) {
    const c = r.certificate;
    msg += ` Certificate: ${c.subject}, issued by ${c.issuer}, valid ${c.validFrom.slice(0, 10)} to ${c.validTo.slice(0, 10)}${c.expired ? ' (EXPIRED)' : ''}, thumbprint ${c.thumbprint}. If that is the server you expect, run again with --trust ${c.thumbprint}.`;
  }
  return new AppError('bad_input', `Cannot record from ${kind === 'opcua' ? 'the OPC UA server' : 'the MQTT broker'} ${url}: ${msg}`, 'url');
}

/** `millwright record opcua|mqtt URL …`: records until the duration is over or Ctrl+C, then prints the recording. */
export async function recordCommand(cli: RecordCli, kind: string | undefined, url: string | undefined): Promise<Recording> {
  const settings = recordSettings(kind, url, cli);
  const intervalMs = durationFlag(cli, 'interval', RECORDING_INTERVAL.min, RECORDING_INTERVAL.max) ?? RECORDING_INTERVAL.default;
  const durationMs = durationFlag(cli, 'duration', 1000, 366 * 86_400_000);
  const password = passwordFrom(cli);
  if (settings.username && password === undefined) throw new AppError('bad_input', `--user ${settings.username} needs its password: put it in an environment variable and name it with --password-env VAR.`, 'password-env');
  const tagTexts = (cli.flag(settings.kind === 'opcua' ? 'tags' : 'field') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (settings.kind === 'opcua' && !tagTexts.length) throw new AppError('bad_input', 'Which tags? Give --tags with node ids or paths, e.g. --tags "ns=1;s=Pump1.Temperature,Pump1/Pressure".', 'tags');
  if (settings.kind === 'mqtt' && settings.payload === 'number' && /[+#]/.test(settings.topic)) throw new AppError('bad_input', 'With --payload number, --topic must be one topic without + or # (each topic is one tag).', 'topic');
  if (settings.kind === 'mqtt' && settings.payload === 'number' && tagTexts.length) throw new AppError('bad_input', 'With --payload number each topic is one value; --field is for JSON payloads.', 'field');
  if (settings.kind === 'mqtt' && tagTexts.length && /[+#]/.test(settings.topic)) throw new AppError('bad_input', 'With --field, --topic must be one topic without + or # (the fields are read from it).', 'topic');
  const listen = durationFlag(cli, 'listen', 200, 30_000) ?? 3000;
  const name = cli.flag('name');
  if (name !== undefined && !/^[^\r\n\t]{1,200}$/.test(name.trim())) throw new AppError('bad_input', '--name must be one line of at most 200 characters.', 'name');
  const trustThumb = cli.flag('trust');

  // Nothing is saved until the connection works and every tag is found.
  const rec = cli.core().recording;
  let test = await rec.test({ settings, password });
  if (!test.ok && test.problem === 'untrusted_certificate' && trustThumb) test = await rec.trust({ settings, thumbprint: trustThumb, trust: true });
  if (!test.ok) throw connectFailure(test, settings.kind, settings.url);

  const tags = await rec.withConnection({ settings, password }, async (conn) => {
    if (settings.kind === 'opcua') return rec.resolveTags(conn, 'opcua', tagTexts);
    if (settings.payload === 'number') return rec.resolveTags(conn, 'mqtt', [settings.topic]);
    if (tagTexts.length) return rec.resolveTags(conn, 'mqtt', tagTexts.map((f) => `${settings.topic}#${f}`));
    cli.err(`Listening to ${settings.topic} for ${listen / 1000} s to find the values…`);
    const heard = await conn.browse({ listenMs: listen });
    // Sparkplug edge nodes whose birth was missed (without --rebirth): the app's hint, in command-line words.
    const notes = (heard.notes ?? []).map((n) => n.replace(REBIRTH_APP_HINT, 'run again with --rebirth to ask it for its birth'));
    const numeric = heard.nodes.filter((n) => n.kind === 'variable' && n.numeric);
    if (!numeric.length) {
      throw new AppError('bad_input', notes.length ? notes.join(' ') : `Nothing numeric was heard on ${settings.topic} within ${listen / 1000} s. Check the topic, or name the fields with --field.`, notes.length ? 'rebirth' : 'topic');
    }
    for (const n of notes) cli.err(n);
    return rec.resolveTags(conn, 'mqtt', numeric.map((n) => n.id));
  });

  // The source: a saved one with exactly these settings (its password kept unless it has none), or a new one named after the host.
  // A saved source is never changed from here: an app recording from it would pick up other settings on its next reconnect.
  const wanted = JSON.stringify(SourceSettingsSchema.parse(settings));
  const same = rec.listSources().find((s) => JSON.stringify(SourceSettingsSchema.parse(s.settings)) === wanted && (password === undefined || !s.hasPassword));
  let sourceId: number;
  if (same) sourceId = password !== undefined ? rec.saveSource({ id: same.id, name: same.name, settings: same.settings, password }).id : same.id;
  else {
    const host = new URL(settings.url).host;
    const taken = new Set(rec.listSources().map((s) => s.name.toLowerCase()));
    let sourceName = host;
    for (let k = 2; taken.has(sourceName.toLowerCase()); k++) sourceName = `${host} (${k})`;
    sourceId = rec.saveSource({ name: sourceName, settings, ...(password !== undefined ? { password } : {}) }).id;
  }

  const started = rec.start({ source: sourceId, tags, intervalMs, durationMs: durationMs ?? null, ...(name ? { name: name.trim() } : {}) });
  cli.err(`Recording ${started.id} "${started.name}": ${tags.length} tag${tags.length === 1 ? '' : 's'}${durationMs ? ` for ${cli.flag('duration')}` : ''}. Press Ctrl+C to stop.`);
  const tick = setInterval(() => {
    const r = rec.get(started.id);
    cli.err(`  ${RECORDING_STATE_TITLES[r.state].padEnd(12)} ${r.samples.toLocaleString('en-US')} samples, ${r.gaps} gap${r.gaps === 1 ? '' : 's'}${r.state === 'recording' && !recordingNeedsAttention(r) ? '' : `: ${r.message.replace(REBIRTH_APP_HINT, 'stop and record again with --rebirth')}`}`);
  }, 5000);
  const stop = () => void rec.stop({ id: started.id }).catch(() => undefined);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const final = await rec.finished(started.id);
    if (!cli.json) cli.out(describeRecording(final));
    return final;
  } finally {
    clearInterval(tick);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export { describeRecording };
