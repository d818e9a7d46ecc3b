/**
 * One entry point for "how should this file be read": Excel workbooks go to
 * the Excel sniffer (in a worker thread), everything else to the text sniffer.
 * Both propose the historian long format when the file looks like one.
 */
import type { ReadSettings } from '../../../../shared/datasets';
import { isExcelFile, sniffExcel } from './excel';
import { proposeLongFormat } from './long-format';
import { sniffFile, type SniffResult } from './sniff';

export async function sniffAny(file: string, overrides: Partial<ReadSettings> = {}): Promise<SniffResult> {
  if (isExcelFile(file)) return sniffExcel(file, overrides);
  return proposeLongFormat(await sniffFile(file, overrides), overrides);
}
