import { EmptyState } from '../components/empty-state';

export { MonitoringPage } from './monitoring/monitoring-page';

/** Pages whose content arrives with later steps of the loop: each says what belongs here and what fills it. */
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
