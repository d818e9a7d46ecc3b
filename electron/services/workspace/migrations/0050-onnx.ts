import type { Migration } from '../db';

/**
 * The ONNX graph of each model version (DESIGN.md section 7): written once,
 * when the version is recorded (or the first time an older version is used),
 * and kept as a blob so every prediction runs the same bytes.
 */
export const migration0050: Migration = {
  version: 50,
  name: 'model-onnx',
  up: `
    ALTER TABLE model_versions ADD COLUMN onnx_blob TEXT;
    ALTER TABLE model_versions ADD COLUMN onnx_hash TEXT;
  `,
};
