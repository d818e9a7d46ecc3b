import type { JobInfo, ModelVersionInfo } from '../../../shared/api';
import { CopyValue } from '../../components/copy-value';
import { Icon } from '../../components/icons';
import { JobProgress } from '../../components/job-progress';
import { isActive } from '../../store/jobs-slice';
import { versionKey } from '../../store/registry-slice';
import { useStore } from '../../store/store';
import { formatSeconds } from './report-logic';

interface Hashes {
  modelHash: string;
  onnxHash: string | null;
  appVersion: string;
}

/** What a models.reproduce job returns. */
export interface ReproduceResult {
  identical: boolean;
  original: Hashes;
  reproduced: Hashes;
  differences: string[];
  seconds: number;
}

export function asReproduceResult(x: unknown): ReproduceResult | null {
  if (!x || typeof x !== 'object') return null;
  const r = x as Partial<ReproduceResult>;
  if (typeof r.identical !== 'boolean' || !r.original || !r.reproduced) return null;
  return { ...(r as ReproduceResult), differences: Array.isArray(r.differences) ? r.differences : [], seconds: typeof r.seconds === 'number' ? r.seconds : NaN };
}

function useReproduceJob(model: string, version: number): JobInfo | undefined {
  return useStore((s) => {
    const id = s.reproducing[versionKey(model, version)];
    return id ? s.jobs[id] : undefined;
  });
}

/** "Reproduce": retrains the version from its lineage and says whether the same model came out (same ONNX hash), or what differs. */
export function ReproduceButton({ model, version }: { model: string; version: number }) {
  const job = useReproduceJob(model, version);
  const start = useStore((s) => s.reproduceStart);
  const running = Boolean(job && isActive(job));
  return (
    <button
      className="button small"
      onClick={() => void start(model, version)}
      disabled={running}
      title={`Retrain version ${version} from the same data, settings and seed, and check the result is the same model`}
      data-testid="reproduce"
    >
      <Icon name="repeat" size={14} /> {job && !running ? 'Reproduce again' : 'Reproduce'}
    </button>
  );
}

/** The Reproduce job of the version shown: its progress with Cancel, then the verdict. Nothing before it is started. */
export function ReproducePanel({ model, v }: { model: string; v: ModelVersionInfo }) {
  const job = useReproduceJob(model, v.version);
  const cancel = useStore((s) => s.cancelJob);
  if (!job) return null;
  if (isActive(job)) {
    return (
      <JobProgress
        title={`Retraining version ${v.version} from its lineage…`}
        progress={job.progress}
        waiting={job.state === 'queued'}
        message={job.message || 'Reading the data…'}
        onCancel={() => void cancel(job.id)}
        testId="reproduce"
      />
    );
  }
  if (job.state === 'cancelled') {
    return <p className="muted small reproduce-result">Reproducing was stopped; nothing was changed.</p>;
  }
  if (job.state !== 'done') {
    return (
      <div className="card notice bad-notice reproduce-result" role="alert">
        <Icon name="alert" />
        <div>
          <strong>Version {v.version} could not be reproduced</strong>
          <p>{job.error?.message ?? 'The app stopped while retraining. Try again.'}</p>
        </div>
      </div>
    );
  }
  const r = asReproduceResult(job.result);
  if (!r) return <p className="muted small reproduce-result">The result of reproducing cannot be shown.</p>;
  const took = Number.isFinite(r.seconds) ? ` in ${formatSeconds(r.seconds)}` : '';
  if (r.identical) {
    return (
      <div className="reproduce-result" data-testid="reproduce-result">
        <p className="ok-text">
          <Icon name="check" /> Identical — same ONNX hash
        </p>
        <p className="small">
          Retrained from the same data, settings and seed{took} with Millwright {r.reproduced.appVersion}: the model came out byte for byte the same.
        </p>
        {r.reproduced.onnxHash && (
          <p className="small reproduce-hash">
            <span className="muted">ONNX SHA-256</span> <CopyValue value={r.reproduced.onnxHash} label="ONNX hash" />
          </p>
        )}
      </div>
    );
  }
  return (
    <div className="card notice warn-notice reproduce-result" role="status" data-testid="reproduce-result">
      <Icon name="alert" />
      <div>
        <strong>Not identical: retraining{took} gave a different model</strong>
        <ul className="plain-list small">
          {r.differences.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
        <dl className="facts compact-facts small">
          <dt>ONNX hash then</dt>
          <dd className="mono">{r.original.onnxHash ?? 'not recorded'}</dd>
          <dt>ONNX hash now</dt>
          <dd className="mono">{r.reproduced.onnxHash ?? '–'}</dd>
        </dl>
      </div>
    </div>
  );
}
