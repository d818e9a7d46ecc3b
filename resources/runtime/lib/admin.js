'use strict';
/**
 * The admin API, behind the admin token: what is served, pushing a signed
 * bundle, rolling back to the previous one, installing and removing a shadow
 * model (shadow.js), and reading monitoring data since a cursor. Pushes and rollbacks run one at a time; the swap itself
 * drops no request (ModelHolder.swap lets requests in flight finish on the
 * model they started with). Every change, and every refusal of one, is
 * written as one JSON line {"admin": …} on standard output.
 */
const { HttpError, readBody } = require('./http');
const { BundleError, filesOfArchive, verifyFiles } = require('./bundle');
const { mismatch } = require('./shadow');

/** Content types a bundle upload may have. */
const BUNDLE_TYPES = new Set(['application/gzip', 'application/x-gzip', 'application/octet-stream', 'application/x-tar+gzip']);

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

/**
 * @param {{
 *   holder: import('./model').ModelHolder,
 *   installed: import('./installed').Installed,
 *   key: import('./bundle').PinnedKey,
 *   openModel: (b: import('./bundle').VerifiedBundle) => Promise<import('./model').LoadedModel>,
 *   metrics: import('./metrics').Metrics,
 *   monitor: import('./monitor').Monitor,
 *   shadow: import('./shadow').Shadow,
 *   events: import('./state').SeqLog,
 *   buckets: import('./state').SeqLog,
 *   save: () => Promise<void>,
 *   identity: () => { stateId: string, run: { id: string, from: string } },
 *   maxBundle: number,
 *   maxUnpacked: number,
 *   runtimeVersion: string,
 *   startedAt: string,
 *   log: (line: Record<string, unknown>) => void,
 * }} deps
 */
function adminRoutes(deps) {
  const { holder, installed, key, openModel, metrics, monitor, shadow, events, buckets, save, identity, maxBundle, maxUnpacked, runtimeVersion, startedAt, log } = deps;

  /** Pushes and rollbacks one after another: two at once would each record the other's bundle as previous. */
  let queue = Promise.resolve();
  const serial = (fn) => {
    const run = queue.then(fn, fn);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  const record = () => /** @type {import('./installed').InstalledRecord} */ (installed.record);
  const short = (e) => (e ? { name: e.name, version: e.version } : null);

  /** One admin log line: when, what, who (the X-Millwright-User header the app sends, and the address), and how it ended. */
  function audit(req, action, outcome) {
    const by = req.headers['x-millwright-user'];
    log({
      admin: {
        at: new Date().toISOString(),
        action,
        by: typeof by === 'string' && by ? by.slice(0, 100) : null,
        from: req.socket.remoteAddress ?? null,
        ...outcome,
      },
    });
  }

  /** Runs a change and logs it; a BundleError becomes 400 (or `status`) with its sentence. */
  async function change(req, action, fn, status = 400) {
    try {
      const result = await fn();
      audit(req, action, { ok: true, ...result });
      return result;
    } catch (e) {
      const err = e instanceof BundleError ? new HttpError(/** @type {{ status?: number }} */ (e).status ?? status, e.message) : e;
      audit(req, action, { ok: false, error: err instanceof HttpError ? err.message : 'internal error (see standard error)' });
      throw err;
    }
  }

  /** Swaps to a checked, installed bundle: recorded on disk first, then served. */
  async function serve(verified) {
    const next = await openModel(verified);
    try {
      installed.served(verified);
    } catch (e) {
      next.release();
      throw e;
    }
    holder.swap(next);
  }

  function status() {
    const r = record();
    const requests = requestCount(metrics);
    let predictions = 0;
    for (const n of metrics.predictions.values()) predictions += n;
    const m = holder.current;
    return {
      stateId: identity().stateId,
      model: { name: m.name, version: m.version, task: m.signature.task, bundleSha256: r.current.sha256, installedAt: r.current.installedAt },
      previous: r.previous ? { name: r.previous.name, version: r.previous.version, bundleSha256: r.previous.sha256, installedAt: r.previous.installedAt } : null,
      keyFingerprint: key.fingerprint,
      runtimeVersion,
      startedAt,
      counters: { requests, errors: metrics.errors, predictions },
      shadow: shadow.status(),
    };
  }

  /** An upload's .tar.gz bytes; a wrong type (415) or too large a body is refused and logged as `action`. */
  async function bundleBody(req, action) {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!BUNDLE_TYPES.has(type)) {
      const err = new HttpError(415, `Send the bundle's .tar.gz bytes as the body with Content-Type application/gzip (or application/octet-stream); got ${type ? `"${type}"` : 'none'}.`);
      audit(req, action, { ok: false, error: err.message });
      throw err;
    }
    try {
      return await readBody(req, maxBundle, 'start the endpoint with a larger --max-bundle');
    } catch (e) {
      audit(req, action, { ok: false, error: e.message });
      throw e;
    }
  }

  /** An upload checked as a push is: unpacked within the limits, every file and the signature against the pinned key. */
  const checkUpload = (body, what) => verifyFiles(filesOfArchive(body, maxUnpacked, what), what, key);

  async function push(req) {
    const body = await bundleBody(req, 'push');
    return serial(() =>
      change(req, 'push', async () => {
        const checked = checkUpload(body, 'The uploaded bundle');
        const before = record();
        if (checked.sha256 === before.current.sha256) {
          return { model: short(before.current), previous: short(before.previous), unchanged: true };
        }
        const older = downgrade(checked, before.current);
        await serve(installed.install(checked));
        const after = record();
        return { model: short(after.current), previous: short(after.previous), ...(older ? { downgrade: older } : {}) };
      }),
    );
  }

  function rollback(req) {
    return serial(() =>
      change(
        req,
        'rollback',
        async () => {
          const before = record();
          if (!before.previous) {
            throw new HttpError(409, `There is no previous bundle to roll back to: this endpoint has served only ${before.current.name} version ${before.current.version} since it was installed or last started with a new --bundle.`);
          }
          const verified = installed.openPrevious();
          await serve(/** @type {import('./bundle').VerifiedBundle} */ (verified));
          const after = record();
          return { model: short(after.current), previous: short(after.previous) };
        },
        409,
      ),
    );
  }

  /** Installs a signed bundle as the shadow model (409 when it cannot score production's rows). */
  async function installShadow(req) {
    const body = await bundleBody(req, 'shadow');
    return serial(() =>
      change(req, 'shadow', async () => {
        const checked = checkUpload(body, 'The uploaded shadow bundle');
        const why = mismatch(holder.current, checked);
        if (why) throw Object.assign(new BundleError(why), { status: 409 });
        // Open buckets close here, so each bucket counts one shadow (or none).
        monitor.closeAll();
        return shadow.install(checked, holder.current);
      }),
    );
  }

  function removeShadow(req) {
    return serial(() =>
      change(req, 'shadow.remove', async () => {
        monitor.closeAll();
        return { removed: shadow.remove() };
      }),
    );
  }

  async function monitoring(req) {
    const query = new URL(req.url ?? '/', 'http://edge').searchParams;
    const given = query.get('cursor');
    let b = 0;
    let e = 0;
    if (given !== null && given !== '') {
      const m = /^(\d{1,15})\.(\d{1,15})$/.exec(given);
      if (!m) throw new HttpError(400, `"cursor" must be the text a previous answer returned, such as "12.40"; got ${JSON.stringify(given.slice(0, 40))}.`, { field: 'cursor' });
      b = Number(m[1]);
      e = Number(m[2]);
    }
    let limit = DEFAULT_LIMIT;
    const l = query.get('limit');
    if (l !== null && l !== '') {
      if (!/^\d{1,6}$/.test(l) || Number(l) < 1 || Number(l) > MAX_LIMIT) throw new HttpError(400, `"limit" must be a whole number from 1 to ${MAX_LIMIT}; got ${JSON.stringify(l.slice(0, 20))}.`, { field: 'limit' });
      limit = Number(l);
    }
    // The rows answered before this read are compared with the shadow's before their buckets close.
    await shadow.idle();
    monitor.closeAll();
    // Only numbers given before the save are handed out: a bucket or event added while it runs may not be on disk
    // yet, and a crash would give its number again to another one. It comes with the next read.
    const lastB = buckets.seq;
    const lastE = events.seq;
    try {
      await save();
    } catch (err) {
      throw new HttpError(503, `The endpoint cannot save its monitoring data to its state folder (${err.code ?? err.message}); try again when the disk has room.`);
    }
    // A cursor past what this state folder ever gave comes from before the state was reset: start from the oldest kept.
    if (b > lastB) b = 0;
    if (e > lastE) e = 0;
    const bs = buckets.since(b, limit + 1).filter((x) => /** @type {number} */ (x.seq) <= lastB);
    const es = events.since(e, limit + 1).filter((x) => /** @type {number} */ (x.seq) <= lastE);
    const more = bs.length > limit || es.length > limit;
    const outB = bs.slice(0, limit);
    const outE = es.slice(0, limit);
    const toE = outE.length ? /** @type {number} */ (outE[outE.length - 1].seq) : e;
    const cursor = `${outB.length ? outB[outB.length - 1].seq : b}.${toE}`;
    const m = holder.current;
    const requests = requestCount(metrics);
    const { stateId, run } = identity();
    return {
      stateId,
      run,
      cursor,
      more,
      model: { name: m.name, version: m.version },
      counters: { requests, errors: metrics.errors, predictions: Object.fromEntries(metrics.predictions), anomalies: metrics.anomalies },
      buckets: outB,
      events: outE,
      // Events numbered after the cursor up to this page's last one that were dropped before they were read (the holes
      // in `events`), and how many of them were anomalies (the rest are context rows; null when not known).
      dropped: events.lost(e, toE),
    };
  }

  return [
    { template: '/admin/status', auth: 'admin', methods: { GET: status } },
    { template: '/admin/bundle', auth: 'admin', maxBody: maxBundle, methods: { POST: push } },
    { template: '/admin/rollback', auth: 'admin', methods: { POST: rollback } },
    { template: '/admin/shadow', auth: 'admin', maxBody: maxBundle, methods: { POST: installShadow, DELETE: removeShadow } },
    { template: '/admin/monitoring', auth: 'admin', methods: { GET: monitoring } },
  ];
}

/**
 * An older version of the model served, pushed: {from, to} when both
 * versions are whole numbers and the pushed one is lower, else null. It is
 * served as asked (deploying an older version is how operations goes back
 * past the one rollback keeps), but the answer and the admin log say so,
 * since pushing an old signed bundle again is also how a replay would undo a
 * fix.
 * @param {import('./bundle').CheckedBundle} next
 * @param {import('./installed').InstalledEntry} current
 */
function downgrade(next, current) {
  const to = String(next.manifest.version);
  if (next.manifest.name !== current.name || !/^\d{1,15}$/.test(to) || !/^\d{1,15}$/.test(current.version)) return null;
  return Number(to) < Number(current.version) ? { from: current.version, to } : null;
}

/** Requests answered on every route, from the Prometheus counters. */
function requestCount(metrics) {
  let n = 0;
  for (const byCode of metrics.requests.values()) for (const k of byCode.values()) n += k;
  return n;
}

module.exports = { adminRoutes };
