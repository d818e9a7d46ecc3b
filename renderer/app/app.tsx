import { useEffect, type ReactNode } from 'react';
import { PAGES } from '../../shared/commands';
import { api } from '../api/api';
import { Icon } from '../components/icons';
import { ActivityPage } from '../pages/activity-page';
import { DataPage } from '../pages/data-page';
import { HomePage } from '../pages/home-page';
import { DeploymentsPage } from '../pages/deployments/deployments-page';
import { InboxPage } from '../pages/inbox/inbox-page';
import { MonitoringPage } from '../pages/later-pages';
import { ModelsPage } from '../pages/models/models-page';
import { SettingsPage } from '../pages/settings-page';
import { useStore } from '../store/store';
import type { RouteId } from '../store/ui-slice';
import { TrainPage } from '../wizards/train/train-wizard';
import { bindShortcuts, runCommand } from './commands';
import { JobTray } from './job-tray';
import { Sidebar } from './sidebar';
import { Toasts } from './toasts';

const PAGE_VIEWS: Record<RouteId, () => ReactNode> = {
  home: HomePage,
  data: DataPage,
  models: ModelsPage,
  deployments: DeploymentsPage,
  monitoring: MonitoringPage,
  inbox: InboxPage,
  activity: ActivityPage,
  settings: SettingsPage,
  train: TrainPage,
};

/** Title and line for routes that are not in the navigation. */
const SUB_ROUTE_HEADS: Partial<Record<RouteId, { label: string; blurb: string }>> = {
  train: { label: 'Train a model', blurb: 'Say what the model should do; Millwright tries several algorithms and keeps the best.' },
};

function useTheme() {
  const theme = useStore((s) => s.theme);
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme;
    };
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}

function useCoreEvents() {
  useEffect(() => {
    const s = useStore.getState();
    void s.loadInfo();
    void s.loadJobs();
    void s.loadSamples();
    void s.loadDatasets();
    void s.loadAlerts();
    void s.loadInbox();
    const offJob = api().on('job', ({ job }) => {
      const st = useStore.getState();
      const before = st.jobs[job.id];
      st.upsertJob(job);
      if (job.kind === 'models.train') st.trainNoteJob(job);
      if (job.kind === 'imports.analyze' && before?.state !== job.state && (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled')) {
        st.importAnalysisDone(job);
      }
      if (job.state === 'done' && before?.state !== 'done') {
        if (job.kind === 'samples.add') {
          void st.loadDatasets();
          const r = job.result as { dataset?: string; created?: boolean } | null;
          st.toast('success', r?.created === false ? `${r.dataset ?? 'The sample'} is already in your data.` : `Added ${r?.dataset ?? 'the sample'} to your data.`);
        }
        if (job.kind === 'imports.save' || job.kind === 'imports.analyze') {
          const r = job.result as { dataset?: string; version?: number; created?: boolean } | null;
          if (r?.dataset) {
            void st.loadDatasets();
            st.toast('success', r.created ? `Saved ${r.dataset}, version ${r.version}.` : `${r.dataset} already holds this data (version ${r.version}).`);
            if (job.id === st.imp.saveJob) {
              st.importReset();
              st.go('data', r.dataset);
            }
          }
        }
        if (job.kind === 'models.reproduce') {
          // The model page shows the verdict too; the note reaches someone who has moved on.
          const r = job.result as { model?: string; version?: number; identical?: boolean } | null;
          if (r?.model) st.toast(r.identical ? 'success' : 'info', `Version ${r.version ?? '?'} of ${r.model} ${r.identical ? 'was reproduced exactly: same ONNX hash.' : 'came out different when retrained; see its Versions card.'}`);
        }
        if (st.page === 'activity') void st.loadAudit();
      }
    });
    const offNotice = api().on('notice', (n) => useStore.getState().toast(n.level === 'error' ? 'error' : 'info', n.message));
    const offCommand = api().on('command', (c) => runCommand(c.id));
    const offAlert = api().on('alert', ({ alert }) => useStore.getState().noteAlert(alert));
    const offMonitor = api().on('monitor', ({ endpoints }) => useStore.getState().notePolled(endpoints));
    const offPrompt = api().on('prompt', ({ message }) => useStore.getState().notePrompt(message));
    const offFeedback = api().on('feedback', () => useStore.getState().noteFeedback());
    const unbind = api().transport === 'http' ? bindShortcuts() : () => undefined;
    return () => {
      offJob();
      offNotice();
      offCommand();
      offAlert();
      offMonitor();
      offPrompt();
      offFeedback();
      unbind();
    };
  }, []);
}

export function App() {
  useTheme();
  useCoreEvents();
  const page = useStore((s) => s.page);
  const route = useStore((s) => s.route);
  const def = SUB_ROUTE_HEADS[route] ?? PAGES.find((p) => p.id === page)!;
  const View = PAGE_VIEWS[route];
  useEffect(() => {
    document.title = `${def.label} · Millwright`;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [def.label]);
  return (
    <div className="shell">
      <a
        href="#main"
        className="skip-link"
        onClick={(e) => {
          // The hash names pages here, so move focus without touching it.
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <Sidebar />
      <div className="main-column">
        <header className="topbar">
          <div className="topbar-title">
            <h1>{def.label}</h1>
            <p className="muted">{def.blurb}</p>
          </div>
          <div className="topbar-actions">
            <ThemeToggle />
            <JobTray />
          </div>
        </header>
        <main id="main" tabIndex={-1} className="content">
          <View />
        </main>
      </div>
      <Toasts />
    </div>
  );
}

function ThemeToggle() {
  const theme = useStore((s) => s.theme);
  const dark = theme === 'dark' || (theme === 'system' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  return (
    <button className="icon-button bordered" onClick={() => runCommand('view.toggleTheme')} aria-label={dark ? 'Use light theme' : 'Use dark theme'} title="Toggle dark theme (Ctrl+Shift+L)">
      <Icon name={dark ? 'sun' : 'moon'} />
    </button>
  );
}

export function NoAccess() {
  return (
    <div className="no-access">
      <div className="card">
        <img src="./icon.svg" alt="" width={48} height={48} />
        <h1>Open Millwright with its link</h1>
        <p>
          This page needs the access key that <code>millwright serve-app</code> (or <code>npm start</code>) printed when it started. Copy the
          whole link from that window, including the part after <code>?token=</code>, and open it here.
        </p>
      </div>
    </div>
  );
}
