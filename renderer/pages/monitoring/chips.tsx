import type { DriftVerdict } from '../../../shared/monitor';
import { Icon } from '../../components/icons';
import { TONE_CHIP, VERDICT_LOOK, contactLook } from './monitor-logic';

/** A drift verdict as a word with an icon; amber for watch and red for changed, grey otherwise. */
export function VerdictChip({ verdict, testId }: { verdict: DriftVerdict; testId?: string }) {
  const look = VERDICT_LOOK[verdict];
  return (
    <span className={`chip ${TONE_CHIP[look.tone]}`} data-testid={testId} data-verdict={verdict}>
      <Icon name={look.icon} size={13} />
      {look.label}
    </span>
  );
}

/** "Answering", "Stopped" in grey, or in red "Not answering" with "No contact since …" under it. */
export function ContactChip({ e, now, stopped = false, compact = false }: { e: { reachable: boolean; lastContact: string | null }; now: number; stopped?: boolean; compact?: boolean }) {
  const look = contactLook(e, now, undefined, stopped);
  return (
    <span className="endpoint-status" data-testid="monitor-contact">
      <span className={`chip ${TONE_CHIP[look.tone]}`}>
        <Icon name={look.tone === 'bad' ? 'alert' : stopped && !e.reachable ? 'stop' : 'check'} size={13} />
        {look.label}
      </span>
      {!compact && look.note && <span className="small block muted">{look.note}</span>}
    </span>
  );
}
