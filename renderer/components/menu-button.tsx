import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

/** A button that opens a menu below it; a click outside or Escape closes it. `items` gets the function that closes it. */
export function MenuButton({
  label,
  buttonClass = 'button',
  menuClass = '',
  disabled = false,
  testId,
  items,
}: {
  label: ReactNode;
  buttonClass?: string;
  menuClass?: string;
  disabled?: boolean;
  testId?: string;
  items: (close: () => void) => ReactNode;
}) {
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
      <button className={buttonClass} aria-haspopup="menu" aria-expanded={open} aria-controls={menuId} disabled={disabled} onClick={() => setOpen(!open)} data-testid={testId}>
        {label}
      </button>
      {open && (
        <ul className={`menu ${menuClass}`} id={menuId} role="menu">
          {items(() => setOpen(false))}
        </ul>
      )}
    </div>
  );
}
