/** Local date and time, with the time zone shown by the page once. */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function timeZoneLabel(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
