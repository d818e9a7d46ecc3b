import { PAGES, type PageId } from '../../shared/commands';
import { Icon, type IconName } from '../components/icons';
import { needsPerson } from '../pages/monitoring/monitor-logic';
import { useStore } from '../store/store';

const MAIN: PageId[] = ['home', 'data', 'models', 'deployments', 'monitoring', 'inbox'];
const FOOT: PageId[] = ['activity', 'settings'];

function NavItem({ id }: { id: PageId }) {
  const page = useStore((s) => s.page);
  const go = useStore((s) => s.go);
  const def = PAGES.find((p) => p.id === id)!;
  const current = page === id;
  // Firing alerts nobody has acknowledged or snoozed (a number, so the item re-renders only when it changes).
  // The Inbox: questions the last prompt asked that are still unanswered.
  const badge = useStore((s) =>
    id === 'monitoring' ? (s.alerts ?? []).filter((a) => needsPerson(a, Date.now())).length : id === 'inbox' ? (s.inbox?.due.length ?? 0) : 0,
  );
  return (
    <li>
      <a
        href={`#/${id}`}
        className={`nav-item ${current ? 'current' : ''}`}
        aria-current={current ? 'page' : undefined}
        title={`${def.label} (Ctrl+${def.key})`}
        onClick={(e) => {
          e.preventDefault();
          go(id);
        }}
      >
        <Icon name={id as IconName} />
        <span>{def.label}</span>
        {badge > 0 && (
          <span
            className={`nav-badge${id === 'inbox' ? ' questions' : ''}`}
            data-testid={id === 'inbox' ? 'nav-inbox-badge' : 'nav-alert-badge'}
            aria-label={id === 'inbox' ? `${badge} ${badge === 1 ? 'question' : 'questions'} to answer` : `${badge} ${badge === 1 ? 'alert' : 'alerts'} firing`}
          >
            {badge}
          </span>
        )}
      </a>
    </li>
  );
}

export function Sidebar() {
  const info = useStore((s) => s.info);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <img src="./icon.svg" alt="" width={28} height={28} />
        <span>Millwright</span>
      </div>
      <ul className="nav-list">
        {MAIN.map((id) => (
          <NavItem key={id} id={id} />
        ))}
      </ul>
      <ul className="nav-list nav-foot">
        {FOOT.map((id) => (
          <NavItem key={id} id={id} />
        ))}
      </ul>
      <div className="workspace-label" title={info?.workspace}>
        <span className="muted small">Workspace</span>
        <span className="small ellipsis">{info ? info.workspace.split(/[\\/]/).slice(-2).join('/') : '…'}</span>
      </div>
    </nav>
  );
}
