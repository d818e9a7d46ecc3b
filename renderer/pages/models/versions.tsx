import { useState } from 'react';
import type { ModelSummary, ModelVersionInfo } from '../../../shared/api';
import type { ModelAlias } from '../../../shared/training';
import { Dialog } from '../../components/dialog';
import { REASON_MISSING, ReasonField } from '../../components/reason-field';
import { Icon } from '../../components/icons';
import { MenuButton } from '../../components/menu-button';
import { useStore } from '../../store/store';
import { formatWhen } from '../when';
import './registry.css';
import { ReproduceButton, ReproducePanel } from './reproduce';
import { formatMetric } from './report-logic';
import { aliasBlocked, archiveBlocked, versionNote } from './versions-logic';

/** Versions listed before "Show all": the newest few are what people pick from. */
const VERSIONS_SHOWN = 5;

/** production, challenger, archived: words in chips (production stands out by weight, not colour). */
export function VersionChips({ v }: { v: Pick<ModelVersionInfo, 'aliases' | 'archivedAt'> }) {
  return (
    <span className="version-chips">
      {v.aliases.map((a) => (
        <span key={a} className={`chip chip-${a}`}>
          {a === 'production' && <Icon name="check" size={12} />}
          {a}
        </span>
      ))}
      {v.archivedAt && (
        <span className="chip chip-archived">
          <Icon name="archive" size={12} />
          archived
        </span>
      )}
    </span>
  );
}

type Change = { kind: 'alias'; alias: ModelAlias } | { kind: 'archive' };

/**
 * The versions of a model with their aliases, and what can be done with the one shown:
 * move production or challenger to it (with a reason), archive or restore it, see where
 * it came from, compare it with another, and retrain it to check it comes out the same.
 */
export function Versions({
  model,
  versions,
  shown,
  onShow,
  onChanged,
}: {
  model: ModelSummary;
  versions: ModelVersionInfo[];
  shown: ModelVersionInfo;
  onShow: (version: number) => void;
  onChanged: () => void;
}) {
  const go = useStore((s) => s.go);
  const changeVersion = useStore((s) => s.changeVersion);
  const [all, setAll] = useState(false);
  const [change, setChange] = useState<Change | null>(null);
  const listed = all ? [...versions] : versions.slice(0, VERSIONS_SHOWN);
  // The version shown stays in the list even when it is older than the newest few.
  if (!listed.includes(shown)) listed.push(shown);
  const metric = shown.metric;
  const v = shown;
  const others = versions.filter((x) => x.version !== v.version && x.task === v.task);

  const restore = async () => {
    const refused = await changeVersion({ model: model.name, version: v.version, restore: true });
    if (refused) useStore.getState().toast('error', refused);
    else onChanged();
  };

  return (
    <section className="card section versions" aria-labelledby="versions-title" data-testid="versions">
      <div className="versions-head">
        <h3 id="versions-title">Versions</h3>
        <p className="muted small">
          {aliasLine(model)} Choose a version to see its results; the actions below apply to it.
        </p>
      </div>
      <div className="table-scroll full">
        <table className="table compact versions-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Trained</th>
              <th scope="col">Algorithm</th>
              <th scope="col" className="num">
                {metric.label}
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {listed.map((x) => {
              const current = x.version === v.version;
              return (
                <tr key={x.version} className={`${current ? 'best-row' : ''} ${x.archivedAt ? 'muted' : ''}`} aria-current={current ? 'true' : undefined} onClick={() => onShow(x.version)}>
                  <td>
                    <button className="row-toggle" onClick={() => onShow(x.version)} aria-pressed={current}>
                      <span className={`version-radio ${current ? 'on' : ''}`} aria-hidden />
                      <span className={current ? 'strong' : ''}>Version {x.version}</span>
                    </button>
                  </td>
                  <td className="versions-when">
                    {formatWhen(x.createdAt)} <span className="muted">by {x.createdBy}</span>
                  </td>
                  <td>
                    <span className="ellipsis versions-algo" title={x.algorithmTitle}>
                      {x.algorithmTitle}
                    </span>
                  </td>
                  <td className="num">{formatMetric(x.metrics[x.metric.key], x.metric)}</td>
                  <td>
                    <VersionChips v={x} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {versions.length > VERSIONS_SHOWN && (
        <button className="link-button" onClick={() => setAll(!all)}>
          {all ? 'Show the newest only' : `Show all ${versions.length} versions`}
        </button>
      )}

      <div className="version-actions" role="group" aria-label={`Version ${v.version}`}>
        <div className="version-actions-group">
        <span className="strong version-actions-label">Version {v.version}:</span>
        <AliasButton v={v} alias="production" onClick={() => setChange({ kind: 'alias', alias: 'production' })} />
        <AliasButton v={v} alias="challenger" onClick={() => setChange({ kind: 'alias', alias: 'challenger' })} />
        {v.archivedAt ? (
          <button className="button small" onClick={() => void restore()}>
            Restore
          </button>
        ) : (
          <button className="button small" onClick={() => setChange({ kind: 'archive' })} disabled={archiveBlocked(v) !== null} title={archiveBlocked(v) ?? undefined}>
            <Icon name="archive" size={14} /> Archive
          </button>
        )}
        </div>
        <div className="version-actions-group">
        <button className="button small" onClick={() => go('models', model.name, ['lineage', String(v.version)])} data-testid="open-lineage">
          <Icon name="lineage" size={14} /> Lineage
        </button>
        <MenuButton
          buttonClass="button small"
          menuClass="menu-narrow"
          disabled={others.length === 0}
          testId="compare-with"
          label={
            <>
              <Icon name="compare" size={14} /> Compare with…
            </>
          }
          items={(close) =>
            others.map((o) => (
              <li key={o.version} role="none">
                <button
                  role="menuitem"
                  className="menu-item"
                  onClick={() => {
                    close();
                    const [a, b] = [o.version, v.version].sort((x, y) => x - y);
                    go('models', model.name, ['compare', String(a), String(b)]);
                  }}
                >
                  <span className="menu-title">
                    Version {o.version} <VersionChips v={o} />
                  </span>
                  <span className="muted small">
                    {o.algorithmTitle} · {o.metric.label} {formatMetric(o.metrics[o.metric.key], o.metric)}
                  </span>
                </button>
              </li>
            ))
          }
        />
        <ReproduceButton model={model.name} version={v.version} />
        <button className="button small" onClick={() => go('deployments', 'deploy', [model.name, String(v.version)])} disabled={Boolean(v.archivedAt)} title={v.archivedAt ? `Version ${v.version} is archived. Restore it first.` : undefined} data-testid="deploy-version">
          <Icon name="deployments" size={14} /> Deploy…
        </button>
        </div>
      </div>
      {versionNote(v) && <p className="muted small">{versionNote(v)}</p>}
      <ReproducePanel model={model.name} v={v} />

      {change && (
        <ChangeDialog
          model={model}
          v={v}
          change={change}
          onClose={() => setChange(null)}
          onDone={() => {
            setChange(null);
            onChanged();
          }}
        />
      )}
    </section>
  );
}

/** "Production: version 1 · challenger: none." */
function aliasLine(m: ModelSummary): string {
  const p = m.production === null ? 'no version is in production yet' : `production is version ${m.production}`;
  const c = m.challenger === null ? '' : `, challenger is version ${m.challenger}`;
  const line = `${p}${c}.`;
  return line.charAt(0).toUpperCase() + line.slice(1);
}

function AliasButton({ v, alias, onClick }: { v: ModelVersionInfo; alias: ModelAlias; onClick: () => void }) {
  const blocked = aliasBlocked(v, alias);
  return (
    <button className={`button small ${alias === 'production' && !blocked ? 'primary' : ''}`} onClick={onClick} disabled={blocked !== null} title={blocked ?? undefined} data-testid={`make-${alias}`}>
      {alias === 'production' ? 'Make production' : 'Make challenger'}
    </button>
  );
}

const ALIAS_MEANING: Record<ModelAlias, string> = {
  production: 'Production is the version endpoints should run.',
  challenger: 'The challenger is the version on trial beside production, to be compared before it takes over.',
};

/** Asks for the reason (required for an alias, kept in the audit log) before moving an alias or archiving. */
function ChangeDialog({ model, v, change, onClose, onDone }: { model: ModelSummary; v: ModelVersionInfo; change: Change; onClose: () => void; onDone: () => void }) {
  const changeVersion = useStore((s) => s.changeVersion);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const alias = change.kind === 'alias' ? change.alias : null;
  const now = alias ? model[alias] : null;
  const submit = async () => {
    if (alias && reason.trim().length < 3) return setError(REASON_MISSING);
    setBusy(true);
    const refused = await changeVersion(
      alias ? { model: model.name, version: v.version, alias, reason: reason.trim() } : { model: model.name, version: v.version, archive: true, reason },
    );
    setBusy(false);
    if (refused) setError(refused);
    else onDone();
  };
  return (
    <Dialog
      title={alias ? `Make version ${v.version} ${alias === 'challenger' ? 'the challenger' : alias}` : `Archive version ${v.version}`}
      submitLabel={alias ? `Make ${alias}` : 'Archive'}
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      error={error}
      testId="version-change-dialog"
    >
      {alias ? (
        <p>
          {ALIAS_MEANING[alias]}{' '}
          {now !== null
            ? `Now it is version ${now}; it moves to version ${v.version}.`
            : alias === 'production'
              ? `No version of ${model.name} is in production yet.`
              : `${model.name} has no challenger yet.`}
        </p>
      ) : (
        <p>An archived version stays in the registry with its lineage and can be restored. It is no longer offered as the default.</p>
      )}
      <ReasonField
        value={reason}
        onChange={(v) => {
          setReason(v);
          setError(null);
        }}
        optional={!alias}
        placeholder={alias === 'production' ? 'Retrained with April data; catches 2 more trips on the same rows' : alias ? 'Try the April retrain beside production' : 'Superseded by a newer version'}
      />
    </Dialog>
  );
}
