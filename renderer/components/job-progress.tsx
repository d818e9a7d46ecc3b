import { useEffect, useRef } from 'react';
import { Icon } from './icons';
import { ProgressBar } from './progress-bar';

/** A running job where it was started: what it is doing, how far it is, and a Cancel button that takes the focus. */
export function JobProgress({
  title,
  progress,
  waiting,
  message,
  onCancel,
  testId,
}: {
  title: string;
  /** 0..1 */
  progress: number;
  /** Queued behind other work. */
  waiting: boolean;
  message: string;
  onCancel: () => void;
  /** Marks the block as `${testId}-progress` and its button as `${testId}-cancel`. */
  testId: string;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelRef.current?.focus({ preventScroll: true }), []);
  return (
    <div className={`train-progress ${testId}-progress`} data-testid={`${testId}-progress`}>
      <div className="train-progress-head">
        <strong>{waiting ? 'Waiting to start…' : title}</strong>
        <span className="muted small">{Math.round(progress * 100)} %</span>
      </div>
      <ProgressBar value={progress} label={`${title.replace(/…$/, '')} progress`} />
      <div className="train-progress-foot">
        <span className="small" aria-live="polite">
          {message}
        </span>
        <button ref={cancelRef} className="button small" data-testid={`${testId}-cancel`} onClick={onCancel}>
          <Icon name="stop" size={14} /> Cancel
        </button>
      </div>
    </div>
  );
}
