/**
 * What the recording service asks of a source driver (OPC UA in opcua.ts,
 * MQTT in mqtt.ts). A driver is one connection: it connects once, browses,
 * reads and subscribes, and says when the connection is lost. It does not
 * reconnect by itself: the recorder owns the retry policy (backoff, gaps,
 * messages), the same for both kinds of source.
 */
import type { BrowseResult, CertificateInfo, ConnectProblem, LiveValue, Quality, SourceSettings, Tag } from '../../../shared/recording';

/** Everything a driver needs to open a connection. */
export interface ConnectOptions {
  settings: SourceSettings;
  /** The unsealed password (auth password / MQTT credentials), if any. */
  password?: string;
  /**
   * OPC UA: the folder of this workspace's certificate store (own certificate
   * and key, trusted/ and rejected/ server certificates). Created on first use.
   */
  pkiDir: string;
  /** OPC UA: SHA-1 thumbprints (as in CertificateInfo) a person has trusted. */
  trusted: ReadonlySet<string>;
  /** Give up connecting after this long (default 10 s). */
  timeoutMs?: number;
  /** Called once when an open connection is lost (server gone, socket closed, session expired). Not called after close(). */
  onLost?: (reason: string) => void;
}

/** One sample as the driver receives it. */
export interface Sample {
  /** Tag id (Tag.id). */
  tag: string;
  /** Source timestamp in ms since 1970 (the server's or the payload's; receive time when there is none). */
  t: number;
  /** Number (booleans as 1/0), or null when bad or not a number. */
  value: number | null;
  quality: Quality;
}

export interface Subscription {
  close(): Promise<void>;
}

/**
 * Picked tags whose values arrive but cannot be read (Sparkplug B: the edge
 * node's birth was missed, and its data names metrics by alias only; with
 * rebirth on, only once the node has not answered the Rebirth request for a
 * while), one part of the source (one edge node) each.
 */
export interface UnreadableTags {
  /** Tag ids (Tag.id) whose values cannot be read. */
  tags: string[];
  /** When the first message that could not be read came (ms since 1970). */
  since: number;
  /** The gap reason, the same for as long as it lasts: "The birth certificate of edge node Plant/Line2 was missed …" */
  reason: string;
  /** For the recording's status, in plain words: which part, how many messages (a coarse count) since when, which tags. */
  message: string;
  /** What to do, in plain words: the same for every entry of one report, said once after all of them. */
  advice: string;
}

export interface DriverConnection {
  /** What the server calls itself (null when it does not say). */
  readonly serverName: string | null;
  /** OPC UA: children of `parent` (the Objects folder when absent), or nodes whose name contains `search`. MQTT: topics and fields heard within `listenMs`. */
  browse(opts: { parent?: string; search?: string; listenMs?: number }): Promise<BrowseResult>;
  /** Current values (MQTT: the last heard, waiting up to a few seconds for tags not heard yet). */
  read(tags: string[]): Promise<LiveValue[]>;
  /**
   * Calls onSample for every new value of `tags`; OPC UA samples at intervalMs.
   * onUnreadable (MQTT Sparkplug B) is called with every picked tag whose
   * values arrive but cannot be read, whenever that list changes (an empty
   * list once they can be read again); not at all while there are none.
   * `readable` names picked tags a birth just made readable (their births
   * came), whether or not this connection listed them before: a recording
   * that carried their gap over from an earlier connection ends it then.
   */
  subscribe(tags: Tag[], intervalMs: number, onSample: (s: Sample) => void, onUnreadable?: (now: UnreadableTags[], readable: string[]) => void): Promise<Subscription>;
  close(): Promise<void>;
}

/** A connection that failed, in words a plant engineer understands. */
export class ConnectError extends Error {
  constructor(
    readonly problem: ConnectProblem,
    message: string,
    readonly certificate: CertificateInfo | null = null,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

export interface Driver {
  /** Opens a connection or throws ConnectError. */
  connect(opts: ConnectOptions): Promise<DriverConnection>;
}
