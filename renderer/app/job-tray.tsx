import { useEffect, useRef } from 'react';
import { formatDuration } from '../../shared/format';
import { Icon } from '../components/icons';
import { ProgressBar } from '../components/progress-bar';
import { JobStateChip } from '../components/status-chip';
import { isActive, sortedJobs } from '../store/jobs-slice';
import { useStore } from '../store/store';

/** Every running task with its progress and a cancel button, plus the last few that ended. */
export function JobTray() {
  const open = useStore((s) => s.trayOpen);
  const jobs = useStore((s) => s.jobs);
  const setOpen = useStore((s) => s.setTrayOpen);
  const cancel = useStore((s) => s.cancelJob);
  const go = useStore((s) => s.go);
  const panel = useRef<HTMLDivElement>(null);
  const all = sortedJobs(jobs);
  const active = all.filter(isActive);
  const recent = all.filter((j) => !isActive(j)).slice(0, 4);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, setOpen]);

  return (
    <div className="tray-anchor">
      <button
        className={`tray-button ${active.length ? 'busy' : ''}`}
        aria-expanded={open}
        aria-controls="job-tray"
        onClick={() => setOpen(!open)}
        title="Background tasks (Ctrl+J)"
      >
        <Icon name="tasks" />
        <span>{active.length ? `${active.length} running` : 'Tasks'}</span>
        {active.length > 0 && <span className="spinner" aria-hidden />}
      </button>
      {open && (
        <div className="tray" id="job-tray" ref={panel} role="dialog" aria-label="Background tasks">
          <div className="tray-head">
            <strong>Background tasks</strong>
            <button className="icon-button" onClick={() => setOpen(false)} aria-label="Close">
              <Icon name="close" size={16} />
            </button>
          </div>
          {active.length === 0 && recent.length === 0 && <p className="muted tray-empty">Nothing is running. Long work such as imports and training shows up here.</p>}
          <ul className="tray-list">
            {[...active, ...recent].map((j) => (
              <li key={j.id} className="tray-item" data-job-state={j.state}>
                <div className="tray-row">
                  <span className="tray-title">{j.title}</span>
                  <JobStateChip state={j.state} />
                </div>
                {isActive(j) ? (
                  <>
                    <ProgressBar value={j.progress} label={j.title} />
                    <div className="tray-row">
                      <span className="muted small">
                        {j.message} · {Math.round(j.progress * 100)} %
                      </span>
                      <button className="button small" onClick={() => void cancel(j.id)} disabled={j.message === 'Stopping…'}>
                        <Icon name="stop" size={14} /> Cancel
                      </button>
                    </div>
                  </>
                ) : (
                  <div className="muted small">
                    {j.error ? j.error.message : j.message}
                    {j.startedAt && j.endedAt ? ` · took ${formatDuration(Date.parse(j.endedAt) - Date.parse(j.startedAt))}` : ''}
                  </div>
                )}
              </li>
            ))}
          </ul>
          <button
            className="link-button"
            onClick={() => {
              setOpen(false);
              go('activity');
            }}
          >
            All tasks and the audit log <Icon name="arrow" size={14} />
          </button>
        </div>
      )}
    </div>
  );
}
