'use strict';
/** Request bodies, JSON answers and the errors a caller can act on. */

/** An answer other than 2xx, with a message that names what to fix. */
class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {Record<string, unknown>} [detail] extra JSON fields, such as the field and row at fault
   * @param {Record<string, string>} [headers]
   */
  constructor(status, message, detail = {}, headers = {}) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

const badRequest = (message, detail) => new HttpError(400, message, detail);

/** How the body limit reads in messages: 1 MB, 512 KB, 1500 bytes. */
function bytesText(n) {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}

function tooLarge(limit, advice = 'send fewer rows per request') {
  return new HttpError(413, `The request body is larger than this endpoint takes (${bytesText(limit)}); ${advice}.`, {}, { Connection: 'close' });
}

/** True when the request announces a body over the limit (answered before it is read). */
function announcesTooMuch(req, limit) {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

/**
 * The body parsed as JSON; 413 past `limit` bytes (reading stops there),
 * 400 for anything that is not JSON.
 * @returns {Promise<unknown>}
 */
async function readJson(req, limit) {
  const text = (await readBody(req, limit)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/\S/.test(text)) throw badRequest('The request has no body; send JSON.');
    const why = e instanceof SyntaxError ? e.message : 'it nests too deeply';
    throw badRequest(`The body is not valid JSON: ${why}.`);
  }
}

/**
 * The body's bytes; 413 past `limit` bytes (reading stops there), with `advice` saying what to do.
 * @returns {Promise<Buffer>}
 */
function readBody(req, limit, advice = undefined) {
  return new Promise((resolve, reject) => {
    if (announcesTooMuch(req, limit)) {
      reject(tooLarge(limit, advice));
      return;
    }
    const chunks = [];
    let total = 0;
    let done = false;
    const fail = (e) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (chunk) => {
      if (done) return;
      total += chunk.length;
      if (total > limit) {
        fail(tooLarge(limit, advice));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => fail(new HttpError(400, 'The request body could not be read.')));
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(400, 'The request was cut off before its body ended.'));
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    });
  });
}

/** How long a connection closed after a refused body still reads (and drops) what the client sends. */
const LINGER_MS = 2_000;

/**
 * Makes the close after the answer on this connection a lingering one: the
 * endpoint stops writing but reads and drops what the client still sends,
 * until the client closes or LINGER_MS have passed. Closed at once with
 * unread bytes, the connection would be reset while the client is still
 * sending its refused body, and the client could lose the answer (413, 401)
 * before reading it. Node closes a "Connection: close" answer's socket
 * through destroySoon, replaced here for this one socket.
 * @param {import('node:net').Socket} socket
 */
function lingerOnClose(socket) {
  socket.destroySoon = function lingering() {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    this.once('close', () => clearTimeout(timer));
  };
}

const isEmpty = (obj) => {
  for (const _ in obj) return false;
  return true;
};

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** Sends `body` as JSON; `close` asks the client to open a new connection next time (shutdown, 413). */
function sendJson(res, status, body, headers = {}, close = false) {
  const text = JSON.stringify(body);
  send(res, status, text, 'application/json; charset=utf-8', headers, close);
}

function send(res, status, text, type, headers = {}, close = false) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const length = String(Buffer.byteLength(text));
  if (!close && isEmpty(headers)) {
    // Name-value pairs in a list: Node writes them without the object merge and copy, which costs about as much as a prediction's bookkeeping.
    res.writeHead(status, ['Cache-Control', 'no-store', 'X-Content-Type-Options', 'nosniff', 'Content-Type', type, 'Content-Length', length]);
  } else {
    const h = { ...SECURITY_HEADERS, ...headers, 'Content-Type': type, 'Content-Length': length };
    if (close) h.Connection = 'close';
    res.writeHead(status, h);
  }
  res.end(text);
}

module.exports = { HttpError, badRequest, tooLarge, announcesTooMuch, readJson, readBody, sendJson, send, bytesText, lingerOnClose };
