/**
 * What can be done with a model version given its aliases, in words: why an
 * action is not offered, and one line under the actions that says so without
 * hovering. Pure, so it is unit tested.
 */
import type { ModelVersionInfo } from '../../../shared/api';
import type { ModelAlias } from '../../../shared/training';

type Version = Pick<ModelVersionInfo, 'version' | 'aliases' | 'archivedAt'>;

/** Why an alias cannot move to this version; null when it can. */
export function aliasBlocked(v: Version, alias: ModelAlias): string | null {
  if (v.aliases.includes(alias)) return `Version ${v.version} is already ${alias}.`;
  if (v.archivedAt) return `Version ${v.version} is archived. Restore it first.`;
  // The challenger may become production (it then stops being the challenger); production cannot go back to trial.
  if (alias === 'challenger' && v.aliases.includes('production')) return `Version ${v.version} is production; a version cannot be production and challenger at once.`;
  return null;
}

/** Why this version cannot be archived; null when it can. */
export function archiveBlocked(v: Version): string | null {
  if (v.archivedAt) return `Version ${v.version} is already archived.`;
  if (v.aliases.length) return `Version ${v.version} is ${v.aliases.join(' and ')}; point that at another version before archiving it.`;
  return null;
}

/** One line under the actions when some are not offered, so nobody has to hover a greyed-out button to learn why. */
export function versionNote(v: Version): string | null {
  if (v.archivedAt) return `Version ${v.version} is archived: it keeps its lineage but takes no alias until it is restored.`;
  if (v.aliases.includes('production')) return `Version ${v.version} is production. To replace it, make another version production; to retire it, archive it after that.`;
  if (v.aliases.includes('challenger')) return `Version ${v.version} is the challenger, on trial beside production. Making it production ends its trial; it cannot be archived while on trial.`;
  return null;
}
