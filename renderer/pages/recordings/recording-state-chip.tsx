import { recordingNeedsAttention, type RecordingState } from '../../../shared/recording';
import { Icon } from '../../components/icons';
import { stateLook } from './recording-logic';

/** A recording's state: a quiet dot while it records (normal needs no colour), amber or red only when something needs a look; always a word beside it. */
export function RecordingStateChip({ state, message }: { state: RecordingState; message: string }) {
  const look = stateLook(state, recordingNeedsAttention({ state, message }));
  const cls = look.tone === 'warn' ? 'chip-warn' : look.tone === 'bad' ? 'chip-bad' : look.tone === 'running' ? 'chip-recording' : '';
  return (
    <span className={`chip ${cls}`} data-testid="recording-state" data-state={state}>
      {state === 'connecting' && <span className="spinner rec-chip-spinner" aria-hidden />}
      {state === 'recording' && <span className="rec-live-dot" aria-hidden />}
      {(look.tone === 'warn' || look.tone === 'bad') && <Icon name="alert" size={13} />}
      {look.label}
    </span>
  );
}
