import { useState, type ReactNode } from 'react';
import type { EndpointSummary } from '../../../shared/deploy';
import { Dialog } from '../../components/dialog';
import { useStore } from '../../store/store';
import { endpointDraftProblem, rollbackSentence, servedWords, type EndpointDraft } from './deploy-logic';

/** Adds an endpoint operations installed: its address and the tokens printed at install. */
export function AddEndpointDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (e: EndpointSummary) => void }) {
  const add = useStore((s) => s.addEndpoint);
  const endpoints = useStore((s) => s.endpoints);
  const [draft, setDraft] = useState<EndpointDraft>({ name: '', url: '', token: '', adminToken: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: keyof EndpointDraft | null; message: string } | null>(null);
  const edit = (p: Partial<EndpointDraft>) => {
    setDraft({ ...draft, ...p });
    setError(null);
  };
  const submit = async () => {
    const problem = endpointDraftProblem(draft, endpoints?.map((e) => e.name) ?? []);
    if (problem) return setError(problem);
    setBusy(true);
    const admin = draft.adminToken.trim();
    const r = await add({ name: draft.name.trim(), url: draft.url.trim(), token: draft.token.trim(), ...(admin ? { adminToken: admin } : {}) });
    setBusy(false);
    if ('refused' in r) setError({ field: null, message: r.refused });
    else onAdded(r.added);
  };
  const wrong = (f: keyof EndpointDraft) => error?.field === f || undefined;
  return (
    <Dialog title="Add an endpoint" submitLabel="Add endpoint" onClose={onClose} onSubmit={() => void submit()} busy={busy} error={error?.message ?? null} testId="add-endpoint-dialog">
      <p className="muted">An endpoint that operations installed on a gateway or server. Millwright contacts it once to learn what it serves.</p>
      <label className="field">
        <span className="field-label">Name</span>
        <span className="field-hint">How it is listed here, such as line-3-gateway.</span>
        <input value={draft.name} onChange={(e) => edit({ name: e.target.value })} aria-invalid={wrong('name')} spellCheck={false} autoFocus />
      </label>
      <label className="field">
        <span className="field-label">Address</span>
        <span className="field-hint">With its port, such as http://10.0.4.21:8080.</span>
        <input value={draft.url} onChange={(e) => edit({ url: e.target.value })} aria-invalid={wrong('url')} spellCheck={false} inputMode="url" />
      </label>
      <label className="field">
        <span className="field-label">Predict token</span>
        <span className="field-hint">What callers send to get predictions.</span>
        <input type="password" value={draft.token} onChange={(e) => edit({ token: e.target.value })} aria-invalid={wrong('token')} autoComplete="off" />
      </label>
      <label className="field">
        <span className="field-label">Admin token (optional)</span>
        <span className="field-hint">Needed to deploy and roll back from here. Without it, Millwright only watches the endpoint. Kept in the workspace’s keys folder.</span>
        <input type="password" value={draft.adminToken} onChange={(e) => edit({ adminToken: e.target.value })} aria-invalid={wrong('adminToken')} autoComplete="off" />
      </label>
    </Dialog>
  );
}

/** A yes/no question whose answer runs an action: a refusal stays in the dialog in the core's words. */
function ConfirmDialog({ title, submitLabel, action, onClose, testId, children }: { title: string; submitLabel: string; action: () => Promise<string | null>; onClose: () => void; testId: string; children: ReactNode }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setBusy(true);
    const refused = await action();
    setBusy(false);
    if (refused) setError(refused);
    else onClose();
  };
  return (
    <Dialog title={title} submitLabel={submitLabel} onClose={onClose} onSubmit={() => void submit()} busy={busy} error={error} testId={testId}>
      {children}
    </Dialog>
  );
}

/** Confirms a rollback, naming what goes back and what it replaces. */
export function RollbackDialog({ e, onClose }: { e: EndpointSummary; onClose: () => void }) {
  const act = useStore((s) => s.endpointAction);
  return (
    <ConfirmDialog
      title={e.previous ? `Roll ${e.name} back to version ${e.previous.version}?` : `Roll back ${e.name}?`}
      submitLabel={e.previous ? `Roll back to version ${e.previous.version}` : 'Roll back'}
      action={() => act(e.name, 'rollback')}
      onClose={onClose}
      testId="rollback-dialog"
    >
      <p>{rollbackSentence(e)}</p>
      {e.model && <p className="muted small">{servedWords(e.model)} becomes the previous version, so you can go forward again the same way.</p>}
    </ConfirmDialog>
  );
}

/** Confirms forgetting an endpoint, saying what happens to it. */
export function RemoveDialog({ e, onClose }: { e: EndpointSummary; onClose: () => void }) {
  const remove = useStore((s) => s.removeEndpoint);
  return (
    <ConfirmDialog title={`Remove ${e.name}?`} submitLabel="Remove" action={() => remove(e.name)} onClose={onClose} testId="remove-endpoint-dialog">
      <p>
        {e.kind === 'local'
          ? `Millwright stops ${e.name} on this PC and forgets it. Programs that call it get no answer from then on.`
          : `Millwright forgets ${e.name} and its tokens. The endpoint itself keeps running where operations installed it; add it again to watch it.`}
      </p>
    </ConfirmDialog>
  );
}
