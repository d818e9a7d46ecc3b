/**
 * The TCP and UDP sockets a process and its children hold, read from Linux's
 * /proc: the fd links give each process's socket inodes, /proc/<pid>/net/*
 * gives every socket's addresses and state by inode. Used to check that the
 * app talks to nobody but itself and the endpoints a test configured.
 */
import fs from 'node:fs';

export interface SocketInfo {
  pid: number;
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  state: string;
  inode: string;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

export const procAvailable = (): boolean => process.platform === 'linux' && fs.existsSync('/proc/self/net/tcp');

/** `pid` and every process descended from it (workers a job spawns, a local endpoint). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  for (const queue = [pid]; queue.length; ) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // Closed while we looked.
    }
  }
  return inodes;
}

/** An address from /proc/net as text: IPv4 is one little-endian word, IPv6 four. */
export function procAddress(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length === 4) return [...bytes.reverse()].join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 4) words.push(bytes.readUInt32LE(i));
  const be = Buffer.alloc(16);
  words.forEach((w, i) => be.writeUInt32BE(w, i * 4));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(be.readUInt16BE(i).toString(16));
  // Let the URL parser write the short form (::1, ::ffff:7f00:1).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function table(pid: number, proto: SocketInfo['proto']): Map<string, Omit<SocketInfo, 'pid'>> {
  const rows = new Map<string, Omit<SocketInfo, 'pid'>>();
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
  } catch {
    return rows;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [localHex, localPort] = f[1]!.split(':');
    const [remoteHex, remotePort] = f[2]!.split(':');
    const state = proto.startsWith('tcp') ? (TCP_STATES[f[3]!] ?? f[3]!) : f[3] === '01' ? 'ESTABLISHED' : 'UNCONN';
    rows.set(f[9]!, {
      proto,
      local: procAddress(localHex!),
      localPort: parseInt(localPort!, 16),
      remote: procAddress(remoteHex!),
      remotePort: parseInt(remotePort!, 16),
      state,
      inode: f[9]!,
    });
  }
  return rows;
}

/** The internet sockets `pid` and its descendants hold right now (unix sockets are left out: they never leave the PC). */
export function socketsOf(pid: number): SocketInfo[] {
  const out: SocketInfo[] = [];
  for (const p of processTree(pid)) {
    const inodes = socketInodes(p);
    if (!inodes.size) continue;
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
      for (const [inode, row] of table(p, proto)) if (inodes.has(inode)) out.push({ pid: p, ...row });
    }
  }
  return out;
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/i.test(address);
}

export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** A socket that reaches another computer (or could): neither end of it is this PC's loopback. */
export function leavesThisPc(s: SocketInfo): boolean {
  return !isLoopback(s.remote) && !isUnspecified(s.remote);
}

export function describeSocket(s: SocketInfo): string {
  return `${s.proto} ${s.local}:${s.localPort} -> ${s.remote}:${s.remotePort} ${s.state} (pid ${s.pid})`;
}

/**
 * Samples the sockets of `pid`'s process tree every `everyMs` until stopped;
 * returns each distinct socket once (by protocol, addresses and inode) and the
 * number of samples taken.
 */
export function sampleSockets(pid: number, everyMs = 100): { stop(): { sockets: SocketInfo[]; samples: number } } {
  const seen = new Map<string, SocketInfo>();
  let samples = 0;
  const take = () => {
    samples++;
    for (const s of socketsOf(pid)) seen.set(`${s.proto} ${s.inode} ${s.local}:${s.localPort} ${s.remote}:${s.remotePort}`, s);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { sockets: [...seen.values()], samples };
    },
  };
}
