import { useEffect, useState } from 'react';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';

/** Ticks once a minute (or faster) so "5 minutes ago" stays true while a page is open. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** "Check now", with how long the check has been running while it runs. */
export function CheckNowButton({ name, endpoints }: { name?: string; endpoints: number }) {
  const since = useStore((s) => s.checkingSince);
  const checkNow = useStore((s) => s.checkNow);
  const now = useNow(1000);
  const running = since !== null;
  const what = name ?? (endpoints === 1 ? '1 endpoint' : `${endpoints} endpoints`);
  return (
    <button className="button" onClick={() => void checkNow(name)} disabled={running} aria-busy={running} data-testid="monitor-check-now" title={`Contact ${what} now instead of waiting for the next check`}>
      {running ? <span className="spinner" aria-hidden /> : <Icon name="repeat" size={16} />}
      {running ? `Checking ${what}… ${Math.max(0, Math.round((now - since) / 1000))} s` : 'Check now'}
    </button>
  );
}
