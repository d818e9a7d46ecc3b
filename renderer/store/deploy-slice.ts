import type { StateCreator } from 'zustand';
import type { DeploymentRecord, DeployResult, DeployTarget, EndpointSummary } from '../../shared/deploy';
import { call } from '../api/api';
import { errorMessage, reportError } from './report-error';
import type { State } from './store';

export type TargetKind = DeployTarget['kind'];

/** The wizard's steps, in order. */
export const DEPLOY_STEP = { version: 0, target: 1, checks: 2, done: 3 } as const;
export const DEPLOY_STEP_LABELS = ['Version', 'Where', 'Checks', 'Done'] as const;

/**
 * The Deploy wizard: kept in the store so Back never loses what was entered and
 * leaving the page while a deployment runs loses neither the run nor its result.
 */
export interface DeployDraft {
  model: string | null;
  version: number | null;
  step: number;
  target: TargetKind;
  /** Export a file: where ("" until the workspace is known; the wizard fills the default). */
  out: string;
  /** Run on this PC: the endpoint's name and port ("" = a free port). */
  localName: string;
  localPort: string;
  /** Push to an endpoint: which one. */
  endpoint: string | null;
  running: boolean;
  /** When the running deployment started (ms), for the elapsed time. */
  startedAt: number | null;
  result: DeployResult | null;
  /** The core's sentence when the deployment was refused before any check. */
  error: string | null;
  /** After a failed check: the endpoint once rolled back. */
  rolledBack: EndpointSummary | null;
}

export interface DeploySlice {
  endpoints: EndpointSummary[] | null;
  deployHistory: DeploymentRecord[] | null;
  loadEndpoints(): Promise<void>;
  loadDeployHistory(): Promise<void>;
  /** Contacts every endpoint (quietly: a poll must not fill the screen with notes) and keeps what each said. */
  refreshEndpoints(): Promise<void>;
  /** Refresh, stop, start or roll back one endpoint; null when done, else the core's sentence. */
  endpointAction(name: string, action: 'refresh' | 'stop' | 'start' | 'rollback'): Promise<string | null>;
  removeEndpoint(name: string): Promise<string | null>;
  addEndpoint(a: { name: string; url: string; token: string; adminToken?: string }): Promise<{ added: EndpointSummary } | { refused: string }>;

  dw: DeployDraft;
  /** Opens the wizard on a model (and version); a running deployment stays on screen, and the same model keeps its draft. */
  deployOpen(model: string | null, version: number | null): void;
  deploySet(p: Partial<Pick<DeployDraft, 'model' | 'version' | 'step' | 'target' | 'out' | 'localName' | 'localPort' | 'endpoint'>>): void;
  deployStart(): Promise<void>;
  /** Puts back what the endpoint of the last deployment served before it. */
  deployRollback(): Promise<void>;
  /** A fresh wizard for the same model, e.g. to deploy elsewhere. */
  deployReset(): void;
}

const blank = (model: string | null, version: number | null): DeployDraft => ({
  model,
  version,
  step: DEPLOY_STEP.version,
  target: 'local',
  out: '',
  localName: 'this-pc',
  localPort: '',
  endpoint: null,
  running: false,
  startedAt: null,
  result: null,
  error: null,
  rolledBack: null,
});

/** The target the core gets from the draft. */
export function targetOf(d: DeployDraft): DeployTarget {
  if (d.target === 'file') return { kind: 'file', out: d.out.trim() };
  if (d.target === 'endpoint') return { kind: 'endpoint', name: d.endpoint ?? '' };
  const port = d.localPort.trim();
  return { kind: 'local', name: d.localName.trim() || 'this-pc', ...(port ? { port: Number(port) } : {}) };
}

export const createDeploySlice: StateCreator<State, [], [], DeploySlice> = (set, get) => {
  const patch = (p: Partial<DeployDraft>) => set({ dw: { ...get().dw, ...p } });
  const keep = (e: EndpointSummary) => {
    const list = get().endpoints ?? [];
    const at = list.findIndex((x) => x.name === e.name);
    set({ endpoints: at < 0 ? [...list, e] : list.map((x, i) => (i === at ? e : x)) });
  };
  const afterChange = () => {
    void get().loadEndpoints();
    void get().loadDeployHistory();
  };

  return {
    endpoints: null,
    deployHistory: null,
    async loadEndpoints() {
      try {
        set({ endpoints: await call('endpoints.list', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    async loadDeployHistory() {
      try {
        set({ deployHistory: await call('endpoints.history', { limit: 50 }) });
      } catch (err) {
        reportError(err);
      }
    },
    async refreshEndpoints() {
      const names = (get().endpoints ?? []).map((e) => e.name);
      // One slow or unreachable endpoint must not hold back the others.
      await Promise.all(names.map((name) => call('endpoints.refresh', { name }).then(keep, () => undefined)));
    },
    async endpointAction(name, action) {
      try {
        const e =
          action === 'rollback' ? await call('deploy.rollback', { endpoint: name }) : await call(`endpoints.${action}`, { name });
        keep(e);
        if (action === 'rollback') {
          get().toast('success', e.model ? `${name} serves ${e.model.name} version ${e.model.version} again.` : `Rolled back ${name}.`);
          void get().loadDeployHistory();
        } else if (action === 'stop') get().toast('success', `Stopped ${name}. It keeps what it served and starts again with Start.`);
        else if (action === 'start') get().toast('success', `Started ${name}.`);
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async removeEndpoint(name) {
      try {
        await call('endpoints.remove', { name });
        set({ endpoints: (get().endpoints ?? []).filter((e) => e.name !== name) });
        get().toast('success', `Removed ${name} from this workspace.`);
        if (get().dw.endpoint === name) patch({ endpoint: null });
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async addEndpoint(a) {
      try {
        const added = await call('endpoints.add', a);
        keep(added);
        get().toast('success', `Added ${added.name}.`);
        return { added };
      } catch (err) {
        return { refused: errorMessage(err) };
      }
    },

    dw: blank(null, null),
    deployOpen(model, version) {
      const d = get().dw;
      if (d.running) return;
      const finished = d.step >= DEPLOY_STEP.checks;
      if (model && (model !== d.model || finished)) set({ dw: blank(model, version) });
      else if (!model && finished) set({ dw: blank(d.model, null) });
      else if (version !== null && version !== d.version) patch({ version });
      void get().loadEndpoints();
    },
    deploySet(p) {
      // A new model or version makes the default file name of the old one wrong.
      const d = get().dw;
      const stale = (p.model !== undefined && p.model !== d.model) || (p.version !== undefined && p.version !== d.version);
      patch({ ...(stale && p.out === undefined ? { out: '' } : {}), ...(p.model !== undefined && p.model !== d.model ? { version: null } : {}), ...p });
    },
    async deployStart() {
      const d = get().dw;
      if (d.running || !d.model || d.version === null) return;
      patch({ running: true, startedAt: Date.now(), result: null, error: null, rolledBack: null, step: DEPLOY_STEP.checks });
      try {
        const result = await call('deploy.run', { model: d.model, version: d.version, target: targetOf(d) });
        patch({ running: false, result });
        if (get().route !== 'deployments' || get().pageParam !== 'deploy') {
          // Someone who moved on still hears how it went.
          get().toast(result.ok ? 'success' : 'error', result.ok ? `Deployed ${result.model} version ${result.version}${result.endpoint ? ` to ${result.endpoint}` : ''}.` : `Deploying ${result.model} version ${result.version} failed a check. Open Deployments to roll back.`);
        }
      } catch (err) {
        patch({ running: false, error: errorMessage(err) });
      }
      afterChange();
    },
    async deployRollback() {
      const r = get().dw.result;
      if (!r?.endpoint) return;
      const refused = await get().endpointAction(r.endpoint, 'rollback');
      if (refused) get().toast('error', refused);
      else patch({ rolledBack: get().endpoints?.find((e) => e.name === r.endpoint) ?? null });
    },
    deployReset() {
      const d = get().dw;
      if (d.running) return;
      set({ dw: { ...blank(d.model, d.version), target: d.target, out: d.out, localName: d.localName, localPort: d.localPort, endpoint: d.endpoint } });
    },
  };
};
