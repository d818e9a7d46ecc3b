import { useEffect, useState } from 'react';
import { useStore } from '../../store/store';
import { UseCaseDialog } from './use-case-dialog';

const NEW = '\u0000new';

/** The small "Use case" select on a dataset's or a model's page: puts the object under one (a new one too), or takes it out. */
export function UseCaseSelect({ kind, name }: { kind: 'dataset' | 'model'; name: string }) {
  const useCases = useStore((s) => s.useCases);
  const load = useStore((s) => s.loadUseCases);
  const assign = useStore((s) => s.assignUseCase);
  const [creating, setCreating] = useState(false);
  useEffect(() => void load(), [load]);
  const current = useCases?.find((u) => (kind === 'dataset' ? u.datasets : u.models.map((m) => m.name)).includes(name))?.name ?? '';
  return (
    <>
      <label className="version-pick use-case-pick">
        <span className="muted small">Use case</span>
        <select
          value={current}
          disabled={useCases === null}
          onChange={(e) => (e.target.value === NEW ? setCreating(true) : void assign(kind, name, e.target.value || null))}
          data-testid="use-case-select"
        >
          <option value="">None</option>
          {useCases?.map((u) => (
            <option key={u.id} value={u.name}>
              {u.name}
            </option>
          ))}
          <option value={NEW}>New use case…</option>
        </select>
      </label>
      {creating && <UseCaseDialog existing={null} onClose={() => setCreating(false)} onSaved={(uc) => void assign(kind, name, uc)} />}
    </>
  );
}
