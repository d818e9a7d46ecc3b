import type { ColumnType } from '../../shared/datasets';

const stampFormats = new Map<string, Intl.DateTimeFormat>();

/** "2024-03-01 12:00:05" in the given zone: plant time, unambiguous, sortable. */
export function formatTimestamp(ms: number, timeZone?: string): string {
  const key = timeZone ?? '';
  let f = stampFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    stampFormats.set(key, f);
  }
  return f.format(ms);
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 7 });
const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** One table cell as text; null when missing (shown as an em dash). */
export function formatCell(value: string | number | boolean | null, type: ColumnType, timeZone?: string): string | null {
  if (value === null) return null;
  switch (type) {
    case 'timestamp':
      return typeof value === 'number' ? formatTimestamp(value, timeZone) : String(value);
    case 'number':
      return typeof value === 'number' ? numberFormat.format(value) : String(value);
    case 'integer':
      return typeof value === 'number' ? integerFormat.format(value) : String(value);
    case 'boolean':
      return value === true ? 'Yes' : value === false ? 'No' : String(value);
    default:
      return String(value);
  }
}

export const TYPE_LABELS: Record<ColumnType, string> = {
  number: 'Number',
  integer: 'Whole number',
  category: 'Category',
  boolean: 'Yes / no',
  timestamp: 'Date and time',
  text: 'Text',
};
