import type { ReactNode } from 'react';
import { Icon } from './icons';

/**
 * The top of a wizard: its title with a close button, and the named steps.
 * A step's button is enabled when `canGo(i)` says so; steps before the current one show a tick.
 */
export function WizardHead({
  title,
  closeLabel,
  onClose,
  labels,
  step,
  canGo,
  onStep,
}: {
  title: ReactNode;
  closeLabel: string;
  onClose: () => void;
  labels: readonly string[];
  step: number;
  canGo: (i: number) => boolean;
  onStep: (i: number) => void;
}) {
  return (
    <>
      <div className="wizard-head">
        <h2>{title}</h2>
        <button className="icon-button" onClick={onClose} aria-label={closeLabel}>
          <Icon name="close" />
        </button>
      </div>
      <ol className="stepper" aria-label="Steps">
        {labels.map((label, i) => (
          <li key={label} className={i === step ? 'current' : i < step ? 'done' : ''} aria-current={i === step ? 'step' : undefined}>
            <button className="stepper-button" disabled={!canGo(i)} onClick={() => onStep(i)}>
              <span className="stepper-n">{i < step ? <Icon name="check" size={14} /> : i + 1}</span>
              {label}
            </button>
          </li>
        ))}
      </ol>
    </>
  );
}
