import { useEffect, useId, useRef, useState } from 'react';
import { formatBytes } from '../../shared/format';
import { Icon } from '../components/icons';
import { useStore } from '../store/store';

/** "Try it with sample data": a menu of the real datasets shipped with the app. */
export function SampleButton({ large }: { large?: boolean }) {
  const samples = useStore((s) => s.samples);
  const addSample = useStore((s) => s.addSample);
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => !root.current?.contains(e.target as Node) && setOpen(false);
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);

  return (
    <div className="menu-anchor" ref={root}>
      <button
        className={`button ${large ? 'large' : ''}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen(!open)}
      >
        <Icon name="flask" /> Try it with sample data
      </button>
      {open && (
        <ul className="menu" id={menuId} role="menu">
          {samples.map((s) => (
            <li key={s.id} role="none">
              <button
                role="menuitem"
                className="menu-item"
                onClick={() => {
                  setOpen(false);
                  void addSample(s.id);
                }}
              >
                <span className="menu-title">{s.title}</span>
                <span className="muted small">{s.description}</span>
                <span className="muted small">
                  {s.fileName} · {formatBytes(s.sizeBytes)} · {s.licence}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
