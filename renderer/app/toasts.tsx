import { Icon } from '../components/icons';
import { useStore } from '../store/store';

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  const dismiss = useStore((s) => s.dismissToast);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.level}`} role={t.level === 'error' ? 'alert' : 'status'}>
          <Icon name={t.level === 'error' ? 'alert' : t.level === 'success' ? 'check' : 'info'} />
          <span className="toast-text">{t.message}</span>
          <button className="icon-button" onClick={() => dismiss(t.id)} aria-label="Dismiss">
            <Icon name="close" size={15} />
          </button>
        </div>
      ))}
    </div>
  );
}
