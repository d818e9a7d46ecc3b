import { describe, expect, it } from 'vitest';
import { aliasBlocked, archiveBlocked, versionNote } from './versions-logic';

const plain = { version: 3, aliases: [], archivedAt: null };
const production = { version: 1, aliases: ['production' as const], archivedAt: null };
const challenger = { version: 2, aliases: ['challenger' as const], archivedAt: null };
const archived = { version: 4, aliases: [], archivedAt: '2026-04-01T10:00:00Z' };

describe('what a version offers', () => {
  it('offers every action on a version without an alias', () => {
    expect(aliasBlocked(plain, 'production')).toBeNull();
    expect(aliasBlocked(plain, 'challenger')).toBeNull();
    expect(archiveBlocked(plain)).toBeNull();
    expect(versionNote(plain)).toBeNull();
  });

  it('says why an alias cannot move, as the registry would refuse it', () => {
    expect(aliasBlocked(production, 'production')).toBe('Version 1 is already production.');
    expect(aliasBlocked(challenger, 'production')).toBeNull();
    expect(aliasBlocked({ version: 1, aliases: ['production' as const], archivedAt: null }, 'challenger')).toMatch(/is production; a version cannot be production and challenger at once/);
    expect(aliasBlocked(archived, 'challenger')).toBe('Version 4 is archived. Restore it first.');
  });

  it('keeps a version with an alias from being archived', () => {
    expect(archiveBlocked(production)).toMatch(/is production; point that at another version/);
    expect(archiveBlocked(archived)).toBe('Version 4 is already archived.');
  });

  it('says in one line why actions are greyed out', () => {
    expect(versionNote(production)).toMatch(/^Version 1 is production\./);
    expect(versionNote(challenger)).toMatch(/^Version 2 is the challenger/);
    expect(versionNote(archived)).toMatch(/^Version 4 is archived/);
  });
});
