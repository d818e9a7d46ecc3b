import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import './dialog.css';
import { Icon } from './icons';

/**
 * A modal dialog on the native <dialog>: focus moves in and stays, Escape and
 * Cancel close it, focus returns to where it was. The body is a form, so
 * Enter in a field submits.
 */
export function Dialog({
  title,
  children,
  onClose,
  onSubmit,
  submitLabel,
  busy = false,
  error = null,
  testId,
}: {
  title: string;
  children: ReactNode;
  onClose: () => void;
  onSubmit: () => void;
  submitLabel: string;
  busy?: boolean;
  /** The core's sentence when it refused, shown above the buttons. */
  error?: string | null;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const before = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    return () => {
      d.close();
      before?.focus({ preventScroll: true });
    };
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!busy) onSubmit();
  };
  return (
    <dialog
      ref={ref}
      className="dialog card"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form onSubmit={submit} className="dialog-form">
        <div className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
            <Icon name="close" size={16} />
          </button>
        </div>
        <div className="dialog-body">{children}</div>
        {error && (
          <p className="dialog-error" role="alert">
            <Icon name="alert" size={16} /> {error}
          </p>
        )}
        <div className="dialog-foot">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy}>
            {busy && <span className="spinner" aria-hidden />}
            {submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
