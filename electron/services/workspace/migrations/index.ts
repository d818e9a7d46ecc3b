import type { Migration } from '../db';
import { migration0010 } from './0010-init';
import { migration0020 } from './0020-datasets';
import { migration0030 } from './0030-dataset-versions';
import { migration0040 } from './0040-models';
import { migration0050 } from './0050-onnx';
import { migration0060 } from './0060-aliases';
import { migration0070 } from './0070-use-cases';
import { migration0080 } from './0080-endpoints';
import { migration0090 } from './0090-monitoring';
import { migration0100 } from './0100-feedback';
import { migration0110 } from './0110-recording';

/** Every migration, in order. A shipped migration is never edited: add a new one. */
export const MIGRATIONS: readonly Migration[] = [migration0010, migration0020, migration0030, migration0040, migration0050, migration0060, migration0070, migration0080, migration0090, migration0100, migration0110];
