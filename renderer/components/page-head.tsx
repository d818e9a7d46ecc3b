import type { ReactNode } from 'react';

/** The head of a page about one thing: a way back, its name and a line about it, and its controls on the right. */
export function PageHead({ back, onBack, title, blurb, children }: { back: string; onBack: () => void; title: ReactNode; blurb?: ReactNode; children?: ReactNode }) {
  return (
    <div className="dataset-head">
      <button className="link-button back-link" onClick={onBack}>
        ← {back}
      </button>
      <div className="dataset-title">
        <h2>{title}</h2>
        {blurb && <p className="muted">{blurb}</p>}
      </div>
      {children}
    </div>
  );
}
