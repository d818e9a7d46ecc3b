import fs from 'node:fs';
import path from 'node:path';
import type { SampleInfo } from '../../../shared/api';
import { AppError } from '../../../shared/errors';

interface CatalogEntry extends Omit<SampleInfo, 'sizeBytes'> {
  file: string;
}

/** Sample datasets in resources/samples, described by its catalog.json. */
export function listSamples(root: string): SampleInfo[] {
  return readCatalog(root).map((e) => ({
    id: e.id,
    title: e.title,
    description: e.description,
    fileName: e.fileName,
    licence: e.licence,
    credit: e.credit,
    sizeBytes: fs.statSync(path.join(samplesDir(root), e.file)).size,
  }));
}

export function samplePath(root: string, id: string): { path: string; entry: CatalogEntry } {
  const entry = readCatalog(root).find((e) => e.id === id);
  if (!entry) throw new AppError('not_found', `There is no sample dataset called "${id}".`, 'id');
  return { path: path.join(samplesDir(root), entry.file), entry };
}

function samplesDir(root: string): string {
  return path.join(root, 'resources', 'samples');
}

function readCatalog(root: string): CatalogEntry[] {
  return JSON.parse(fs.readFileSync(path.join(samplesDir(root), 'catalog.json'), 'utf8')) as CatalogEntry[];
}
