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

/** "Answering", or in red "Not answering" with "No contact since …" under it. */
export function ContactChip({ e, now, compact = false }: { e: { reachable: boolean; lastContact: string | null }; now: number; compact?: boolean }) {
  const look = contactLook(e, now);
  return (
    <span className="endpoint-status" data-testid="monitor-contact">
      <span className={`chip ${TONE_CHIP[look.tone]}`}>
        <Icon name={look.tone === 'bad' ? 'alert' : 'check'} size={13} />
        {look.label}
      </span>
      {!compact && look.note && <span className="small block muted">{look.note}</span>}
    </span>
  );
}
