import { useStore } from '../store/store';

/** A hash or an id: monospace, whole (it wraps), selectable, with a Copy button. */
export function CopyValue({ value, label }: { value: string; label: string }) {
  const toast = useStore((s) => s.toast);
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => toast('success', `Copied the ${label}.`),
      () => toast('error', 'Could not copy. Select the text and copy it by hand.'),
    );
  return (
    <span className="copy-value">
      <code>{value}</code>
      <button type="button" className="button small" onClick={() => void copy()} aria-label={`Copy the ${label}`}>
        Copy
      </button>
    </span>
  );
}
