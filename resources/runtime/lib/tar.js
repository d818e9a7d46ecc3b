'use strict';
/**
 * Reading a bundle's .tar.gz without any dependency: gunzip, then ustar
 * headers. Only regular files and folders are taken; anything that could
 * write outside the unpacking folder or be something else than it says
 * (absolute names, "..", links, devices, a name given twice) is refused with
 * a sentence naming the entry. The unpacked size is bounded while it is
 * inflated, so a small upload cannot fill the memory.
 */
const zlib = require('node:zlib');
const { bytesText } = require('./http');

/** A bundle archive that must not be unpacked, with the reason. */
class TarError extends Error {}

const BLOCK = 512;

/** What each header type is, in words, for the refusals. */
const KINDS = {
  1: 'a hard link',
  2: 'a symbolic link',
  3: 'a character device',
  4: 'a block device',
  6: 'a FIFO',
  7: 'a contiguous file',
  K: 'a long link name',
  S: 'a sparse file',
  V: 'a volume label',
  M: 'a multi-volume part',
};

/**
 * @typedef {{ name: string, data: Buffer }} TarFile
 */

/**
 * The regular files of a .tar.gz, in archive order; folder entries are checked and dropped.
 * @param {Buffer} gz
 * @param {number} maxUnpacked the most bytes the archive may inflate to
 * @param {string} what how the archive is named in refusals
 * @returns {TarFile[]}
 */
function readTarGz(gz, maxUnpacked, what) {
  let tar;
  try {
    tar = zlib.gunzipSync(gz, { maxOutputLength: maxUnpacked });
  } catch (e) {
    if (e instanceof RangeError || (e && e.code === 'ERR_BUFFER_TOO_LARGE')) {
      throw new TarError(`${what} unpacks to more than ${bytesText(maxUnpacked)}; refusing it (the limit is 4 times --max-bundle).`);
    }
    throw new TarError(`${what} is not a .tar.gz bundle: it cannot be decompressed (${e && e.message ? e.message : String(e)}).`);
  }
  return readTar(tar, what);
}

/** @param {Buffer} tar @param {string} what @returns {TarFile[]} */
function readTar(tar, what) {
  /** @type {TarFile[]} */
  const files = [];
  const seen = new Set();
  /** Names and sizes from a pax or GNU long-name entry, for the next header. */
  let pending = /** @type {{ path?: string, size?: number }} */ ({});
  let off = 0;
  let ended = false;
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) {
      ended = true;
      break;
    }
    if (!checksumOk(h)) throw new TarError(`${what} is damaged: the header at byte ${off} does not add up (not a tar archive, or cut short).`);
    const type = String.fromCharCode(h[156] || 0x30);
    let size = octal(h.subarray(124, 136));
    if (pending.size !== undefined) size = pending.size;
    if (size < 0) throw new TarError(`${what} is damaged: the header at byte ${off} has no readable size.`);
    const dataAt = off + BLOCK;
    const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (dataAt + size > tar.length) throw new TarError(`${what} is cut short: an entry at byte ${off} needs ${size} bytes that are not there.`);
    const data = tar.subarray(dataAt, dataAt + size);
    off = next;

    // Extended headers name or size the entry that follows; global ones say nothing we use.
    if (type === 'x') {
      pending = { ...pending, ...paxRecords(data, what) };
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      pending = { ...pending, path: data.toString('utf8').replace(/\0+$/, '') };
      continue;
    }

    let name = pending.path ?? headerName(h);
    pending = {};
    const shown = JSON.stringify(name);
    if (type !== '0' && type !== '5') {
      const kind = KINDS[/** @type {keyof typeof KINDS} */ (type)] ?? `an entry of type "${type}"`;
      throw new TarError(`${what}: the entry ${shown} is ${kind}; a bundle holds only regular files and folders.`);
    }
    if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) throw new TarError(`${what}: the entry ${shown} has an absolute path; a bundle's names are relative to its folder.`);
    if (name.includes('\\')) throw new TarError(`${what}: the entry ${shown} has a backslash in its name.`);
    if (name.includes('\0')) throw new TarError(`${what}: the entry ${shown} has a NUL character in its name.`);
    // "./manifest.json" as `tar -C dir -czf x .` writes it.
    while (name.startsWith('./')) name = name.slice(2);
    const parts = name.split('/').filter((p, i, all) => p !== '' || i < all.length - 1);
    if (parts.some((p) => p === '..')) throw new TarError(`${what}: the entry ${shown} goes up a folder with ".."; refusing an archive that could write outside its folder.`);
    name = parts.filter((p) => p !== '.' && p !== '').join('/');
    if (type === '5') {
      if (size !== 0) throw new TarError(`${what}: the folder entry ${shown} has contents.`);
      continue;
    }
    if (!name) throw new TarError(`${what}: an entry has an empty name.`);
    if (seen.has(name)) throw new TarError(`${what}: the entry ${shown} is in the archive twice; refusing it, as which copy counts would depend on the unpacker.`);
    seen.add(name);
    files.push({ name, data });
  }
  if (!ended) throw new TarError(`${what} is cut short: it ends without the tar end-of-archive blocks.`);
  return files;
}

function headerName(h) {
  const name = cString(h.subarray(0, 100));
  const ustar = h.subarray(257, 262).toString('latin1') === 'ustar' && h[262] === 0;
  const prefix = ustar ? cString(h.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

const cString = (b) => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
};

/** An octal number field (NUL- or space-terminated); -1 when it is not one. Base-256 sizes are refused: no bundle file is 8 GB. */
function octal(b) {
  const text = b.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : -1;
}

function checksumOk(h) {
  const want = octal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return want === sum;
}

/** "LEN key=value\n" records of a pax extended header: the path and size we honour. */
function paxRecords(data, what) {
  /** @type {{ path?: string, size?: number }} */
  const out = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = space < 0 ? NaN : Number(data.subarray(i, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) throw new TarError(`${what} is damaged: a pax extended header cannot be read.`);
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'size') {
      if (!/^\d+$/.test(value)) throw new TarError(`${what} is damaged: a pax size is not a number.`);
      out.size = Number(value);
    } else if (key === 'linkpath') throw new TarError(`${what}: the entry ${JSON.stringify(out.path ?? '?')} names a link target; a bundle holds only regular files and folders.`);
    i += len;
  }
  return out;
}

module.exports = { readTarGz, readTar, TarError };
