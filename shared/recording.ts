/**
 * Live plant data (issue 10): OPC UA servers and MQTT brokers as sources,
 * recordings of their tags into an append-only buffer on disk, and "Save as
 * dataset" that turns a time range of a recording into an immutable dataset
 * version. Shared by the core, the CLI and the renderer.
 *
 * Secrets (passwords) go in with `sources.save` / `sources.test` and never
 * come back out: a Source only says whether it has one.
 */
import { z } from 'zod';

export const SOURCE_KINDS = ['opcua', 'mqtt'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
export const SOURCE_KIND_TITLES: Record<SourceKind, string> = { opcua: 'OPC UA server', mqtt: 'MQTT broker' };

/** OPC UA message security: none, signed, or signed and encrypted. */
export const OPCUA_SECURITY_MODES = ['none', 'sign', 'signAndEncrypt'] as const;
export const OPCUA_SECURITY_MODE_TITLES: Record<(typeof OPCUA_SECURITY_MODES)[number], string> = {
  none: 'None',
  sign: 'Sign',
  signAndEncrypt: 'Sign and encrypt',
};
/** Policies node-opcua speaks on Node 20+ (Basic128Rsa15 needs a weakened OpenSSL and is left out). */
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
/** Who Millwright says it is to the server. */
export const OPCUA_AUTH = ['anonymous', 'password', 'certificate'] as const;
export const OPCUA_AUTH_TITLES: Record<(typeof OPCUA_AUTH)[number], string> = {
  anonymous: 'Anonymous',
  password: 'User name and password',
  certificate: 'Certificate',
};

/** How an MQTT message's payload holds its value(s). */
export const MQTT_PAYLOADS = ['json', 'number', 'sparkplug'] as const;
export const MQTT_PAYLOAD_TITLES: Record<(typeof MQTT_PAYLOADS)[number], string> = {
  json: 'JSON (pick fields)',
  number: 'A plain number',
  sparkplug: 'Sparkplug B',
};

/** An address without a user name or password in it (opc.tcp://user:pw@host): those go in their own fields, so the password is sealed and never shown. */
const url = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .refine((u) => !/^[a-z][a-z0-9.+-]*:\/\/[^/?#]*@/i.test(u), 'put the user name and password in their own fields, not in the address');
const filePath = z.string().trim().min(1).max(4000);

export const OpcUaSettingsSchema = z
  .object({
    kind: z.literal('opcua'),
    /** opc.tcp://host:4840/path */
    url,
    securityMode: z.enum(OPCUA_SECURITY_MODES).default('none'),
    securityPolicy: z.enum(OPCUA_SECURITY_POLICIES).default('None'),
    auth: z.enum(OPCUA_AUTH).default('anonymous'),
    /** auth password */
    username: z.string().max(300).optional(),
    /** auth certificate: the user certificate (PEM or DER) and its private key (PEM). */
    userCertificateFile: filePath.optional(),
    userKeyFile: filePath.optional(),
  })
  .strict();
export type OpcUaSettings = z.infer<typeof OpcUaSettingsSchema>;

export const MqttSettingsSchema = z
  .object({
    kind: z.literal('mqtt'),
    /** mqtt://, mqtts://, ws:// or wss:// */
    url,
    /** Topic filter to listen to (+ and # allowed). */
    topic: z.string().trim().min(1).max(1000).default('#'),
    payload: z.enum(MQTT_PAYLOADS).default('json'),
    username: z.string().max(300).optional(),
    /** mqtts/wss: a CA certificate (PEM) to trust besides the system's. */
    caFile: filePath.optional(),
    /** mqtts/wss: a client certificate and key (PEM) when the broker asks for one. */
    clientCertFile: filePath.optional(),
    clientKeyFile: filePath.optional(),
    /** mqtts/wss: refuse a broker whose certificate is not trusted (default true). */
    rejectUnauthorized: z.boolean().default(true),
    /**
     * Sparkplug B: ask an edge node whose birth message was missed to send it
     * again, with the standard Node Control/Rebirth command. That is a write to
     * the broker (and the edge node sends all its births anew), so it is off by
     * default: a recording only listens unless the person asks for it.
     */
    rebirth: z.boolean().default(false),
  })
  .strict();
type ParsedMqttSettings = z.infer<typeof MqttSettingsSchema>;
/** Parsed settings always say `rebirth`; settings built in code (and saved before it existed) may leave it out, which means off. */
export type MqttSettings = Omit<ParsedMqttSettings, 'rebirth'> & Partial<Pick<ParsedMqttSettings, 'rebirth'>>;

export const SourceSettingsSchema = z.discriminatedUnion('kind', [OpcUaSettingsSchema, MqttSettingsSchema]);
export type SourceSettings = OpcUaSettings | MqttSettings;

export const SOURCE_NAME = /^[^\r\n\t]{1,100}$/;
export const SourceNameSchema = z.string().trim().regex(SOURCE_NAME, 'one line of at most 100 characters');

/** A saved source. Its password, if any, is sealed (Electron safeStorage in the app, the workspace key otherwise) and never returned. */
export const SourceSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  settings: SourceSettingsSchema,
  hasPassword: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type Source = z.infer<typeof SourceSchema>;

/** A server certificate as a person is asked to trust it. */
export const CertificateInfoSchema = z.object({
  /** SHA-1 of the DER bytes, hex, upper case with colons (as UaExpert and Windows show it). */
  thumbprint: z.string(),
  subject: z.string(),
  issuer: z.string(),
  validFrom: z.string(),
  validTo: z.string(),
  applicationUri: z.string().nullable(),
  /** True when this PC's clock is outside validFrom..validTo. */
  expired: z.boolean(),
});
export type CertificateInfo = z.infer<typeof CertificateInfoSchema>;

/** Why a connection failed, so the UI can offer the right next step. */
export const CONNECT_PROBLEMS = [
  'bad_url',
  'unreachable',
  'timeout',
  'untrusted_certificate',
  'rejected_by_server',
  'wrong_credentials',
  'security_mismatch',
  'tls',
  'other',
] as const;
export type ConnectProblem = (typeof CONNECT_PROBLEMS)[number];

export const ConnectResultSchema = z.object({
  ok: z.boolean(),
  problem: z.enum(CONNECT_PROBLEMS).nullable(),
  /** Plain words: "Connected to Pump station (OPC UA, Sign and encrypt)." or what went wrong and what to do. */
  message: z.string(),
  /** untrusted_certificate: the certificate to decide about. */
  certificate: CertificateInfoSchema.nullable(),
  /** What the server calls itself (OPC UA application name, MQTT broker URL). */
  serverName: z.string().nullable(),
});
export type ConnectResult = z.infer<typeof ConnectResultSchema>;

/**
 * A tag to record. `id` is what the driver subscribes to:
 * - OPC UA: the node id, e.g. `ns=1;s=Pump1.Temperature`;
 * - MQTT number payloads: the topic, e.g. `plant/pump1/temp`;
 * - MQTT JSON payloads: topic, `#`, and the field's dotted path, e.g. `plant/pump1#motor.current`;
 * - Sparkplug B: `spBv1.0/GROUP/NODE[/DEVICE]#METRIC` (without the message type).
 * `name` becomes the dataset's column name.
 */
export const TagSchema = z
  .object({
    id: z.string().min(1).max(2000),
    name: z.string().trim().min(1).max(200),
    unit: z.string().max(50).nullable().optional(),
  })
  .strict();
export type Tag = z.infer<typeof TagSchema>;

/** One node of a source's address space (OPC UA) or of what an MQTT broker was heard to publish. */
export const BrowseNodeSchema = z.object({
  /** The tag id when `kind` is variable; the folder's id (to browse further) otherwise. */
  id: z.string(),
  name: z.string(),
  /** Slash-separated names from the root, for search results and tooltips. */
  path: z.string(),
  kind: z.enum(['folder', 'variable']),
  hasChildren: z.boolean(),
  /** "Double", "Int32", "Boolean", "String", "number", "json"… null for folders. */
  dataType: z.string().nullable(),
  /** True when the value can be recorded as a number (numbers and booleans). */
  numeric: z.boolean(),
  unit: z.string().nullable(),
  /** The value when browsed (null for folders or when unread). */
  value: z.union([z.number(), z.string(), z.boolean()]).nullable(),
});
export type BrowseNode = z.infer<typeof BrowseNodeSchema>;

export const BrowseResultSchema = z.object({
  nodes: z.array(BrowseNodeSchema),
  /** True when there were more nodes than returned (search narrower). */
  truncated: z.boolean(),
  /** Plain-words notes about what was heard but could not be listed, shown above the tags (none when absent). */
  notes: z.array(z.string()).optional(),
});
export type BrowseResult = z.infer<typeof BrowseResultSchema>;

/** The Connect step's option for MqttSettings.rebirth. */
export const REBIRTH_OPTION_TITLE = 'Ask edge nodes for their birth again';
/** What a note says to do to turn rebirth on, in the app (the command line says --rebirth instead). */
export const REBIRTH_APP_HINT = `turn on "${REBIRTH_OPTION_TITLE}" under Advanced`;

/** The note for a Sparkplug edge node (`GROUP/NODE`) whose alias-only data could not be read because its birth was missed. */
export function missedBirthNote(node: string, messages: number): string {
  const what = messages === 1 ? 'one message' : `${messages.toLocaleString('en-US')} messages`;
  return `Edge node ${node} sends values by alias only and its birth message was missed, so ${what} could not be read. Restart that edge node, or ${REBIRTH_APP_HINT}.`;
}

export const QUALITIES = ['good', 'bad'] as const;
export type Quality = (typeof QUALITIES)[number];

export const LiveValueSchema = z.object({
  tag: z.string(),
  /** Numbers and booleans (1/0) as numbers; null when missing or not a number. */
  value: z.number().nullable(),
  /** The value as the source shows it, e.g. "true" or "12.5". */
  text: z.string().nullable(),
  quality: z.enum(QUALITIES),
  /** Source timestamp, ISO 8601 (null when unknown). */
  at: z.string().nullable(),
});
export type LiveValue = z.infer<typeof LiveValueSchema>;

export const RECORDING_STATES = ['connecting', 'recording', 'reconnecting', 'stopped', 'failed', 'interrupted'] as const;
export type RecordingState = (typeof RECORDING_STATES)[number];
export const ACTIVE_RECORDING_STATES: readonly RecordingState[] = ['connecting', 'recording', 'reconnecting'];
export const RECORDING_STATE_TITLES: Record<RecordingState, string> = {
  connecting: 'Connecting',
  recording: 'Recording',
  reconnecting: 'Reconnecting',
  stopped: 'Stopped',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** Recording interval limits (ms) and the default. */
export const RECORDING_INTERVAL = { min: 100, max: 3_600_000, default: 1000 } as const;

/** What a running recording says when every tag is being recorded. */
export function recordingMessage(tags: number, server: string | null): string {
  return `Recording ${tags} tag${tags === 1 ? '' : 's'} from ${server ?? 'the source'}.`;
}

/**
 * Recording, but not everything: the message says what is not being recorded (a Sparkplug
 * edge node whose birth was missed) instead of the plain "Recording N tags from …".
 */
export function recordingNeedsAttention(r: { state: RecordingState; message: string }): boolean {
  return r.state === 'recording' && !/^Recording \d+ tags? from /.test(r.message);
}

export const RecordingSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  source: z.object({ id: z.number().int().nullable(), name: z.string(), kind: z.enum(SOURCE_KINDS), url: z.string() }),
  tags: z.array(TagSchema),
  /** OPC UA sampling interval and the default grid of "Save as dataset", ms. */
  intervalMs: z.number().int(),
  /** null: until stopped. */
  durationMs: z.number().int().nullable(),
  state: z.enum(RECORDING_STATES),
  /** Plain words about the state: "Reconnecting in 8 s: the server does not answer." */
  message: z.string(),
  startedAt: z.string(),
  /** When a recording with a duration stops by itself. */
  endsAt: z.string().nullable(),
  stoppedAt: z.string().nullable(),
  startedBy: z.string(),
  samples: z.number().int(),
  /** Times the data stopped: disconnects, and tags silent for long. */
  gaps: z.number().int(),
  firstSampleAt: z.string().nullable(),
  lastSampleAt: z.string().nullable(),
  /** Size of the buffer on disk. */
  bytes: z.number().int(),
  /** Dataset versions saved from it. */
  datasets: z.array(z.object({ name: z.string(), version: z.number().int() })),
});
export type Recording = z.infer<typeof RecordingSchema>;

export const RecordingGapSchema = z.object({
  start: z.string(),
  /** null while the gap lasts. */
  end: z.string().nullable(),
  /** "Lost the connection: the server closed it." / "No value from Pump1.Temperature for 30 s." */
  reason: z.string(),
  /** The name of the tag it concerns, or null for the whole source. */
  tag: z.string().nullable(),
  /** That tag's id (node id or topic path): names can repeat across folders, ids cannot. */
  tagId: z.string().nullable(),
});
export type RecordingGap = z.infer<typeof RecordingGapSchema>;

/**
 * The gap rows the recording page shows (the newest ones): a week of Wi-Fi drops can make thousands.
 * recordings.live sends these newest gaps and those the sparklines need, not every gap.
 */
export const GAP_ROWS = 100;

export const RecordingLiveSchema = z.object({
  recording: RecordingSchema,
  tags: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      samples: z.number().int(),
      last: LiveValueSchema.nullable(),
      /** The newest points (oldest first) for a sparkline: t in ms since 1970, v null where bad or missing. */
      spark: z.array(z.object({ t: z.number(), v: z.number().nullable() })),
    }),
  ),
  /**
   * Not every gap: the newest GAP_ROWS, and every gap that overlaps the time of the spark points
   * sent (from the oldest of them to now, gaps still going included), in the recording's order (oldest first).
   */
  gaps: z.array(RecordingGapSchema),
  /** How many gaps the whole recording has (gaps holds some of them). */
  gapsTotal: z.number().int(),
});
export type RecordingLive = z.infer<typeof RecordingLiveSchema>;
