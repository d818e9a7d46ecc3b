import type { EndpointSummary } from '../../../shared/deploy';
import { Icon } from '../../components/icons';
import { statusLook } from './deploy-logic';

/** An endpoint's status: a chip with a word and an icon (red only when it is down), and what that means underneath. */
export function EndpointStatus({ e, now = Date.now(), compact = false }: { e: EndpointSummary; now?: number; compact?: boolean }) {
  const look = statusLook(e, now);
  return (
    <span className="endpoint-status" data-testid="endpoint-status">
      <span className={`chip ${look.tone === 'bad' ? 'chip-bad' : 'chip-neutral'}`}>
        <Icon name={look.icon} size={13} />
        {look.label}
      </span>
      {!compact && look.note && <span className={`small block ${look.tone === 'bad' ? 'endpoint-status-bad' : 'muted'}`}>{look.note}</span>}
    </span>
  );
}
