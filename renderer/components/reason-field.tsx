/** "Why?": the reason kept in the audit log with a change (promote, archive, a new alarm level). */
export function ReasonField({ value, onChange, optional = false, placeholder }: { value: string; onChange(v: string): void; optional?: boolean; placeholder: string }) {
  return (
    <label className="field">
      <span className="field-label">{optional ? 'Why? (optional)' : 'Why?'}</span>
      <span className="field-hint">Kept in the audit log, so the next person knows.</span>
      <textarea value={value} onChange={(e) => onChange(e.target.value)} rows={2} maxLength={2000} autoFocus placeholder={placeholder} data-testid="change-reason" />
    </label>
  );
}

/** The sentence when a required reason is missing. */
export const REASON_MISSING = 'Say why in a few words. The reason is kept in the audit log.';
