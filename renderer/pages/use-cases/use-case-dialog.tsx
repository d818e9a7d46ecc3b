import { useState } from 'react';
import type { UseCaseSummary } from '../../../shared/registry';
import { Dialog } from '../../components/dialog';
import { useStore } from '../../store/store';

/** "New use case" (or changing one): a name, the goal in plain words, and the KPI that says whether it works. */
export function UseCaseDialog({ existing, onClose, onSaved }: { existing: UseCaseSummary | null; onClose: () => void; onSaved?: (name: string) => void }) {
  const save = useStore((s) => s.saveUseCase);
  const [draft, setDraft] = useState({ name: existing?.name ?? '', goal: existing?.goal ?? '', kpi: existing?.kpi ?? '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setBusy(true);
    const r = await save(draft, existing?.name ?? null);
    setBusy(false);
    if ('refused' in r) return setError(r.refused);
    onClose();
    onSaved?.(r.saved);
  };
  return (
    <Dialog
      title={existing ? `Change ${existing.name}` : 'New use case'}
      submitLabel={existing ? 'Save' : 'Create use case'}
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      error={error}
      testId="use-case-dialog"
    >
      <p className="muted small">A use case names one problem on the plant. Put the data and the models that work on it under it, so everyone sees how it is going.</p>
      <label className="field">
        <span className="field-label">Name</span>
        <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} placeholder="P-101 trips" maxLength={200} required autoFocus />
      </label>
      <label className="field">
        <span className="field-label">Goal</span>
        <span className="field-hint">What should the model do, and for whom?</span>
        <textarea
          value={draft.goal}
          onChange={(e) => setDraft({ ...draft, goal: e.target.value })}
          placeholder="Warn 2 hours before pump P-101 trips"
          rows={2}
          maxLength={1000}
          required
        />
      </label>
      <label className="field">
        <span className="field-label">KPI</span>
        <span className="field-hint">The number that says whether it works.</span>
        <input value={draft.kpi} onChange={(e) => setDraft({ ...draft, kpi: e.target.value })} placeholder="missed trips per month" maxLength={300} required />
      </label>
    </Dialog>
  );
}
