import { useEffect } from 'react';
import { formatDuration } from '../../shared/format';
import { EmptyState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { ProgressBar } from '../components/progress-bar';
import { JobStateChip } from '../components/status-chip';
import { isActive, sortedJobs } from '../store/jobs-slice';
import { useStore } from '../store/store';
import { AuditLog } from './audit/audit-log';
import { formatWhen, timeZoneLabel } from './when';

/** "#/activity" lists the background tasks; "#/activity/audit" is the audit log. */
export function ActivityPage() {
  const param = useStore((s) => s.pageParam);
  const go = useStore((s) => s.go);
  const tab = param === 'audit' ? 'audit' : 'tasks';
  return (
    <div className="page wide activity-page">
      <div className="tabs" role="tablist" aria-label="Activity">
        {(
          [
            ['tasks', 'Background tasks'],
            ['audit', 'Audit log'],
          ] as const
        ).map(([id, label]) => (
          <button key={id} role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} className="tab" onClick={() => go('activity', id === 'audit' ? 'audit' : null)}>
            {label}
          </button>
        ))}
        <span className="muted small tabs-note">Times in {timeZoneLabel()}</span>
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'tasks' ? <TasksTable /> : <AuditLog />}
      </div>
    </div>
  );
}

function TasksTable() {
  const jobs = useStore((s) => s.jobs);
  const cancel = useStore((s) => s.cancelJob);
  const loadJobs = useStore((s) => s.loadJobs);
  useEffect(() => void loadJobs(), [loadJobs]);
  const list = sortedJobs(jobs);
  if (!list.length) {
    return (
      <EmptyState icon="activity" title="No tasks yet">
        Imports, training and checks run in the background. Each one is listed here with its progress and outcome.
      </EmptyState>
    );
  }
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">State</th>
            <th scope="col" className="wide">Progress or outcome</th>
            <th scope="col">Started</th>
            <th scope="col" className="num">Took</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.map((j) => (
            <tr key={j.id}>
              <td>
                <div className="strong">{j.title}</div>
                <div className="muted small mono">{j.id}</div>
              </td>
              <td>
                <JobStateChip state={j.state} />
              </td>
              <td>
                {isActive(j) ? (
                  <div className="cell-progress">
                    <ProgressBar value={j.progress} label={j.title} />
                    <span className="muted small">
                      {j.message} · {Math.round(j.progress * 100)} %
                    </span>
                  </div>
                ) : (
                  <span className={j.error ? 'small' : 'muted small'}>{j.error ? j.error.message : summarize(j.result) || j.message}</span>
                )}
              </td>
              <td className="small">
                {formatWhen(j.createdAt)}
                <div className="muted">by {j.createdBy}</div>
              </td>
              <td className="num small">{j.startedAt && j.endedAt ? formatDuration(Date.parse(j.endedAt) - Date.parse(j.startedAt)) : ''}</td>
              <td>
                {isActive(j) && (
                  <button className="button small" onClick={() => void cancel(j.id)}>
                    <Icon name="stop" size={14} /> Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function summarize(result: unknown): string {
  if (!result || typeof result !== 'object') return '';
  const r = result as Record<string, unknown>;
  if (typeof r.cpuScore === 'number') return `Computing ${r.cpuScore.toLocaleString()} MFLOP/s · disk ${String(r.diskWriteMBps)} MB/s`;
  if (typeof r.name === 'string' && typeof r.rows === 'number') {
    return `${r.alreadyPresent ? 'Already in the workspace' : 'Added'}: ${r.name}, ${r.rows.toLocaleString()} rows`;
  }
  return '';
}
