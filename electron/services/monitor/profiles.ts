import type { TrainingReport } from '../../../shared/training';
import { trainingProfile, type TrainingProfile } from '../deploy/profile';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';

/**
 * The training profile of the model version an endpoint runs, and the rank
 * of each input by importance in training: worked out once per version (the
 * profile is deterministic) and kept in `monitor_profiles`, so a restart does
 * not read the training rows again.
 */
export interface VersionProfile {
  versionId: number;
  model: string;
  version: number;
  profile: TrainingProfile;
  /** Input → rank (1 = most important); inputs training did not measure are absent. */
  ranks: Map<string, number>;
}

export type ProfileLookup = { ok: true; value: VersionProfile } | { ok: false; reason: string };

export class ProfileCache {
  private readonly cache = new Map<string, Promise<ProfileLookup>>();

  constructor(private readonly ws: Workspace) {}

  /** The profile of `model` version `version` as an endpoint names it; a reason in words when the workspace cannot tell. */
  get(model: string, version: number | string): Promise<ProfileLookup> {
    const key = `${model}\u0000${version}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.load(model, version);
      this.cache.set(key, p);
      // A failure (the dataset removed, say) is tried again next time.
      void p.then((r) => {
        if (!r.ok) this.cache.delete(key);
      });
    }
    return p;
  }

  private async load(model: string, version: number | string): Promise<ProfileLookup> {
    if (!/^\d+$/.test(String(version))) return { ok: false, reason: `${model} version ${version} was not trained in this workspace, so there is no training profile to compare with.` };
    let v;
    try {
      v = findModelVersion(this.ws.db, model, Number(version));
    } catch {
      return { ok: false, reason: `${model} version ${version} is not in this workspace, so there is no training profile to compare with.` };
    }
    const kept = this.ws.db.prepare('SELECT profile, importance FROM monitor_profiles WHERE model_version_id = ?').get(v.id) as { profile: string; importance: string } | undefined;
    if (kept) return { ok: true, value: { versionId: v.id, model: v.model, version: v.version, profile: JSON.parse(kept.profile) as TrainingProfile, ranks: rankMap(JSON.parse(kept.importance) as string[]) } };
    let profile: TrainingProfile;
    try {
      profile = await trainingProfile(this.ws, v);
    } catch (e) {
      return { ok: false, reason: `The training profile of ${model} version ${version} cannot be worked out: ${e instanceof Error ? e.message : String(e)}` };
    }
    const order = keepProfile(this.ws, v, profile);
    return { ok: true, value: { versionId: v.id, model: v.model, version: v.version, profile, ranks: rankMap(order) } };
  }
}

/**
 * Keeps the profile a bundle of `v` carries (buildBundle calls this), so the
 * monitor compares with exactly what the endpoint counts against and need
 * not read the training rows again. Returns the inputs by importance.
 */
export function keepProfile(ws: Workspace, v: ModelVersionRecord, profile: TrainingProfile): string[] {
  let order: string[] = [];
  try {
    const report = JSON.parse(ws.blobs.read(v.reportBlob).toString('utf8')) as Pick<TrainingReport, 'importance'>;
    order = [...(report.importance ?? [])].sort((a, b) => b.drop - a.drop).map((i) => i.input);
  } catch {
    // Without a report the inputs have no rank; drift still works.
  }
  ws.db.prepare('INSERT OR REPLACE INTO monitor_profiles (model_version_id, profile, importance) VALUES (?, ?, ?)').run(v.id, JSON.stringify(profile), JSON.stringify(order));
  return order;
}

function rankMap(order: string[]): Map<string, number> {
  return new Map(order.map((name, i) => [name, i + 1]));
}
