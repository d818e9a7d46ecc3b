import type { JobState } from '../../shared/api';
import { Icon, type IconName } from './icons';

const LOOK: Record<JobState, { label: string; tone: 'neutral' | 'active' | 'good' | 'warn' | 'bad'; icon?: IconName }> = {
  queued: { label: 'Waiting', tone: 'neutral' },
  running: { label: 'Running', tone: 'active' },
  done: { label: 'Done', tone: 'neutral', icon: 'check' },
  failed: { label: 'Failed', tone: 'bad', icon: 'alert' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  interrupted: { label: 'Interrupted', tone: 'warn', icon: 'alert' },
};

/** Colour only where something needs attention (ISA-101); a word and an icon beside it always. */
export function JobStateChip({ state }: { state: JobState }) {
  const look = LOOK[state];
  return (
    <span className={`chip chip-${look.tone}`}>
      {look.icon && <Icon name={look.icon} size={13} />}
      {look.label}
    </span>
  );
}
