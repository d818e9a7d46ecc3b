import type { ReactNode } from 'react';
import { Icon, type IconName } from './icons';

/** Says what belongs on a page and offers the action that fills it. */
export function EmptyState({ icon, title, children, actions }: { icon: IconName; title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="empty-state">
      <div className="empty-icon">
        <Icon name={icon} size={30} />
      </div>
      <h2>{title}</h2>
      <div className="empty-text">{children}</div>
      {actions && <div className="empty-actions">{actions}</div>}
    </div>
  );
}
