import { EmptyState } from '../components/empty-state';

/** Pages whose content arrives with later steps of the loop: each says what belongs here and what fills it. */
export function MonitoringPage() {
  return (
    <div className="page">
      <EmptyState icon="monitoring" title="No deployed models to watch">
        Once a model runs, this page shows its health, how many predictions it makes, and whether the incoming sensor data still looks
        like the data it was trained on (stable, watch, changed).
      </EmptyState>
    </div>
  );
}

export function InboxPage() {
  return (
    <div className="page">
      <EmptyState icon="inbox" title="No questions for you">
        When a deployed model sees unusual behaviour, Millwright groups it into episodes and asks you a few short questions, at the start
        of each shift: was this a real problem? Your answers teach the next model.
      </EmptyState>
    </div>
  );
}
