import { describe, expect, it } from 'vitest';
import {
  AppError,
  DEFAULT_MESSAGES,
  ERROR_CODES,
  HTTP_STATUS,
  isErrorCode,
  toErrorInfo,
  USER_ERROR_CODES,
} from './errors';

describe('error tables', () => {
  it('has a sentence and an HTTP status for every code', () => {
    for (const code of ERROR_CODES) {
      expect(DEFAULT_MESSAGES[code], code).toMatch(/^[A-Z].*\.$/);
      expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
      expect(HTTP_STATUS[code], code).toBeLessThan(600);
    }
    expect(Object.keys(DEFAULT_MESSAGES).sort()).toEqual([...ERROR_CODES].sort());
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('maps the codes the server relies on to their HTTP statuses', () => {
    expect(HTTP_STATUS.bad_input).toBe(400);
    expect(HTTP_STATUS.unauthorized).toBe(401);
    expect(HTTP_STATUS.forbidden).toBe(403);
    expect(HTTP_STATUS.not_found).toBe(404);
    expect(HTTP_STATUS.unknown_method).toBe(404);
    expect(HTTP_STATUS.internal).toBe(500);
  });

  it('counts input problems as user errors and failures as not', () => {
    for (const code of USER_ERROR_CODES) expect(ERROR_CODES).toContain(code);
    expect(USER_ERROR_CODES.has('bad_input')).toBe(true);
    expect(USER_ERROR_CODES.has('workspace_newer')).toBe(true);
    expect(USER_ERROR_CODES.has('internal')).toBe(false);
    expect(USER_ERROR_CODES.has('io')).toBe(false);
    expect(USER_ERROR_CODES.has('job_failed')).toBe(false);
  });

  it('recognises only listed codes', () => {
    for (const code of ERROR_CODES) expect(isErrorCode(code)).toBe(true);
    expect(isErrorCode('ENOENT')).toBe(false);
    expect(isErrorCode('Internal')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
    expect(isErrorCode(404)).toBe(false);
  });
});

describe('AppError', () => {
  it('uses the default sentence for its code when given no message', () => {
    const err = new AppError('not_found');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AppError');
    expect(err.code).toBe('not_found');
    expect(err.message).toBe(DEFAULT_MESSAGES.not_found);
  });

  it('includes the field in its info only when it has one', () => {
    expect(new AppError('bad_input', 'Limit is wrong.', 'limit').toInfo()).toEqual({
      code: 'bad_input',
      message: 'Limit is wrong.',
      field: 'limit',
    });
    const info = new AppError('conflict', 'Busy.').toInfo();
    expect(info).toEqual({ code: 'conflict', message: 'Busy.' });
    expect('field' in info).toBe(false);
  });
});

describe('toErrorInfo', () => {
  it('passes an AppError through', () => {
    expect(toErrorInfo(new AppError('io', 'Disk full.', 'file'))).toEqual({ code: 'io', message: 'Disk full.', field: 'file' });
  });

  it('never shows the message or stack of a plain Error', () => {
    const err = new Error('SQLITE_CORRUPT at /home/ana/secret/path.db');
    const info = toErrorInfo(err);
    expect(info).toEqual({ code: 'internal', message: DEFAULT_MESSAGES.internal });
    const text = JSON.stringify(info);
    expect(text).not.toContain('SQLITE_CORRUPT');
    expect(text).not.toContain('/home/ana');
    expect(text).not.toMatch(/\bat .*\(/);
  });

  it('does not leak Node system errors, whose codes are not ours', () => {
    const err = Object.assign(new Error("ENOENT: no such file or directory, open '/etc/shadow'"), { code: 'ENOENT' });
    expect(toErrorInfo(err)).toEqual({ code: 'internal', message: DEFAULT_MESSAGES.internal });
  });

  it('answers anything else thrown with the generic internal message', () => {
    for (const thrown of ['a string', 42, null, undefined, { message: 'no code' }, { code: 'bogus', message: 'x' }, { code: 'io', message: 5 }]) {
      expect(toErrorInfo(thrown)).toEqual({ code: 'internal', message: DEFAULT_MESSAGES.internal });
    }
  });

  it('keeps error info that crossed a boundary as plain data, dropping extra fields', () => {
    expect(toErrorInfo({ code: 'not_found', message: 'Gone.', stack: 'Error: x\n    at y' })).toEqual({
      code: 'not_found',
      message: 'Gone.',
    });
    expect(toErrorInfo({ code: 'bad_input', message: 'Bad.', field: 'limit' })).toEqual({
      code: 'bad_input',
      message: 'Bad.',
      field: 'limit',
    });
  });
});
