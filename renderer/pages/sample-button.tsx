import { formatBytes } from '../../shared/format';
import { Icon } from '../components/icons';
import { MenuButton } from '../components/menu-button';
import { useStore } from '../store/store';

/** "Try it with sample data": a menu of the real datasets shipped with the app. */
export function SampleButton({ large }: { large?: boolean }) {
  const samples = useStore((s) => s.samples);
  const addSample = useStore((s) => s.addSample);
  return (
    <MenuButton
      buttonClass={`button ${large ? 'large' : ''}`}
      label={
        <>
          <Icon name="flask" /> Try it with sample data
        </>
      }
      items={(close) =>
        samples.map((s) => (
          <li key={s.id} role="none">
            <button
              role="menuitem"
              className="menu-item"
              onClick={() => {
                close();
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
        ))
      }
    />
  );
}
