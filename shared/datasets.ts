/**
 * Dataset types shared by the import code (Node), the API and the renderer.
 * A dataset version is an immutable column store (DESIGN.md section 5).
 */

export const COLUMN_TYPES = ['number', 'integer', 'category', 'boolean', 'timestamp', 'text'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSchema {
  /** Name as shown, without the unit: "Temp" for a header "Temp [°C]". */
  name: string;
  type: ColumnType;
  /** Unit taken from the header ("°C", "m3/h"), or null. */
  unit: string | null;
  /** The header text exactly as in the file. */
  header: string;
}

/**
 * A column in memory. Numbers, integers and timestamps are Float64Array with
 * NaN for missing (timestamps: epoch milliseconds UTC). Categories and text are
 * Int32 codes into `dictionary`, -1 for missing. Booleans are 0/1, 255 missing.
 */
export type ColumnData =
  | { type: 'number' | 'integer' | 'timestamp'; values: Float64Array }
  | { type: 'category' | 'text'; codes: Int32Array; dictionary: string[] }
  | { type: 'boolean'; values: Uint8Array };

export const TEXT_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];
/** ' ' means runs of spaces or tabs (fixed-width exports such as NASA's C-MAPSS). */
export const DELIMITERS = [',', ';', '\t', '|', ' '] as const;
export type Delimiter = (typeof DELIMITERS)[number];
export type DecimalMark = '.' | ',';
/** '' means none. */
export type ThousandsSeparator = '' | '.' | ',' | ' ' | "'";

/** Timestamp formats the importer understands; `auto` means detect from the data. */
export const TIME_FORMATS = [
  'iso', // 2024-03-01T12:00:00[.sss][Z|+01:00] or with a space instead of T
  'dmy', // 01.03.2024 12:00[:ss], 01/03/2024, 01-03-2024
  'mdy', // 03/01/2024 12:00 PM
  'ymd-slash', // 2024/03/01 12:00
  'unix-s',
  'unix-ms',
  'excel-serial',
] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** How a delimited text file is read. Every field is detected, shown, and editable. */
export interface ReadSettings {
  encoding: TextEncoding;
  delimiter: Delimiter;
  decimal: DecimalMark;
  thousands: ThousandsSeparator;
  /** Lines before the header (historian preambles), 0 when none. */
  skipLines: number;
  /** False when the file has no header row: columns are named "Column 1"… */
  hasHeader: boolean;
  /** Name (header text) of the timestamp column, or null. */
  timeColumn: string | null;
  timeFormat: TimeFormat | null;
  /** IANA time zone for timestamps written without an offset. */
  timeZone: string;
  /** Excel: the sheet to read; null for the first sheet with data (ignored for text files). */
  sheet?: string | null;
  /** Historian long format (timestamp, tag, value[, quality]) to pivot into one column per tag; null when the file is wide. */
  longFormat?: LongFormatSettings | null;
}

export interface LongFormatSettings {
  /** Header of the column naming the tag (sensor) of each row. */
  tagColumn: string;
  /** Header of the column holding the value. */
  valueColumn: string;
  /** Header of the quality column, or null. Rows whose quality is bad become missing values. */
  qualityColumn: string | null;
  /** Width of the regular time grid in ms; null for the median sampling interval. */
  intervalMs: number | null;
  /** How several values of one tag in one interval become one. */
  aggregate: 'mean' | 'last';
}

export const PROBLEM_KINDS = [
  'not_a_number',
  'bad_timestamp',
  'bad_boolean',
  'ragged_row',
  'missing_time',
  'duplicate_time',
  'out_of_order',
  'dst_repeated',
  'dst_gap',
  'empty_column',
  'duplicate_column',
  'bad_quality',
  'missing_tag',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** The sentence each kind of problem is reported under. */
export const PROBLEM_TITLES: Record<ProblemKind, string> = {
  not_a_number: 'Values that are not numbers',
  bad_timestamp: 'Dates and times that cannot be read',
  bad_boolean: 'Values that are not yes/no',
  ragged_row: 'Rows with too few or too many values',
  missing_time: 'Rows without a time',
  duplicate_time: 'Rows with the same time as another row',
  out_of_order: 'Rows with an earlier time than the row before',
  dst_repeated: 'Times in the hour that repeats when clocks go back',
  dst_gap: 'Times in the hour that is skipped when clocks go forward',
  empty_column: 'Columns without any values',
  duplicate_column: 'Columns with the same name',
  bad_quality: 'Values the historian marked as bad quality',
  missing_tag: 'Rows without a tag name',
};

/** What a person may choose for each kind of problem, and what happens unless they do. */
export const PROBLEM_CHOICES: Record<ProblemKind, Pick<Problem, 'choices' | 'defaultChoice'>> = {
  not_a_number: { choices: ['missing', 'skip'], defaultChoice: 'missing' },
  bad_timestamp: { choices: ['missing', 'skip'], defaultChoice: 'missing' },
  bad_boolean: { choices: ['missing', 'skip'], defaultChoice: 'missing' },
  ragged_row: { choices: ['missing', 'skip'], defaultChoice: 'missing' },
  missing_time: { choices: ['skip', 'keep'], defaultChoice: 'skip' },
  duplicate_time: { choices: ['keep', 'skip'], defaultChoice: 'keep' },
  out_of_order: { choices: ['keep', 'skip'], defaultChoice: 'keep' },
  dst_repeated: { choices: ['keep', 'skip'], defaultChoice: 'keep' },
  dst_gap: { choices: ['keep', 'skip'], defaultChoice: 'keep' },
  empty_column: { choices: ['keep'], defaultChoice: 'keep' },
  duplicate_column: { choices: ['keep'], defaultChoice: 'keep' },
  bad_quality: { choices: ['missing'], defaultChoice: 'missing' },
  missing_tag: { choices: ['skip'], defaultChoice: 'skip' },
};

export interface ProblemExample {
  /** 1-based line number in the source file (as a text editor shows it). */
  line: number;
  column: string | null;
  raw: string;
  reason: string;
}

export interface Problem {
  kind: ProblemKind;
  /** One sentence a plant engineer reads, e.g. "Values that are not numbers". */
  title: string;
  count: number;
  /** The first 100. */
  examples: ProblemExample[];
  /** What the user may choose for rows with this problem. */
  choices: ('missing' | 'skip' | 'keep')[];
  /** What happens unless the user chooses otherwise. */
  defaultChoice: 'missing' | 'skip' | 'keep';
}

/** The typed array holding a column's values or codes. */
export function columnArray(col: ColumnData): Float64Array | Int32Array | Uint8Array {
  return 'codes' in col ? col.codes : col.values;
}
