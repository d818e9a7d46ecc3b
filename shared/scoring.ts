/**
 * Scoring types shared by the core, the CLI and the renderer (DESIGN.md section 7):
 * answers from a model version's ONNX graph for typed-in rows and for files.
 */
import { z } from 'zod';
import { TASKS } from './training';

/** One value as typed into a form or sent by a caller; null is missing. */
export const CellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Cell = z.infer<typeof CellSchema>;

export const PushSchema = z.object({
  input: z.string(),
  /** How far the input moved the answer from what its typical value gives (probability points as 0..1, the value's unit, or score). */
  effect: z.number(),
});

export const PredictionSchema = z.object({
  /** The class name, the value, or "unusual"/"normal". */
  prediction: z.union([z.string(), z.number(), z.null()]),
  probabilities: z.record(z.string(), z.number()).nullable(),
  score: z.number().nullable(),
  anomaly: z.boolean().nullable(),
  /** Inputs by how much they pushed this answer, largest first. */
  pushes: z.array(PushSchema),
});
export type Prediction = z.infer<typeof PredictionSchema>;

export const TryItFormSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  task: z.enum(TASKS),
  target: z.string().nullable(),
  classes: z.array(z.string()).nullable(),
  dataset: z.string(),
  datasetVersion: z.number().int(),
  /** The training row the form was filled from. */
  row: z.number().int(),
  rowCount: z.number().int(),
  /** Rows of past a window or lag model reads before the row (taken from the training data). */
  historyRows: z.number().int(),
  /** What really happened in that row, when the data says. */
  actual: z.string().nullable(),
  inputs: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['number', 'boolean', 'category']),
      unit: z.string().nullable(),
      levels: z.array(z.string()).nullable(),
      value: CellSchema,
    }),
  ),
});
export type TryItForm = z.infer<typeof TryItFormSchema>;

/** What a batch-scoring job returns. */
export const ScoreResultSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  file: z.string(),
  rows: z.number().int(),
  out: z.string().nullable(),
  added: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
  metrics: z.record(z.string(), z.number()).nullable(),
});
