import type { Migration } from '../db';
import { migration0010 } from './0010-init';
import { migration0020 } from './0020-datasets';
import { migration0030 } from './0030-dataset-versions';
import { migration0040 } from './0040-models';

/** Every migration, in order. A shipped migration is never edited: add a new one. */
export const MIGRATIONS: readonly Migration[] = [migration0010, migration0020, migration0030, migration0040];
