/**
 * Deployments (DESIGN.md section 9): endpoints the workspace knows, what each
 * one serves, and the result of a deployment with its checks. Shared by the
 * core, the CLI and the renderer.
 */
import { z } from 'zod';

/** Letters, digits, dots, dashes and underscores: an endpoint's name is also a folder name for local endpoints. */
export const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const EndpointNameSchema = z.string().regex(ENDPOINT_NAME, 'letters, digits, ".", "-" and "_", starting with a letter or digit, at most 64');

/** `local`: an endpoint this app runs on this PC; `remote`: one operations runs elsewhere. */
export const ENDPOINT_KINDS = ['local', 'remote'] as const;
/** `up`: answered its last health check; `down`: did not; `stopped`: a local endpoint that is not running; `unknown`: never contacted. */
export const ENDPOINT_STATES = ['up', 'down', 'stopped', 'unknown'] as const;

const served = z.object({ name: z.string(), version: z.union([z.number(), z.string()]) });

export const EndpointSummarySchema = z.object({
  name: z.string(),
  url: z.string(),
  kind: z.enum(ENDPOINT_KINDS),
  /** True when the workspace holds the admin token (needed to push and roll back). */
  canDeploy: z.boolean(),
  status: z.enum(ENDPOINT_STATES),
  /** What the endpoint said it serves at the last contact (null before any). */
  model: served.nullable(),
  previous: served.nullable(),
  lastContact: z.string().nullable(),
  /** Why the last contact failed, in words. */
  lastError: z.string().nullable(),
  requests: z.number().int().nullable(),
  errors: z.number().int().nullable(),
  addedAt: z.string(),
  addedBy: z.string(),
});
export type EndpointSummary = z.infer<typeof EndpointSummarySchema>;

export const DEPLOY_CHECKS = ['signature', 'health', 'smoke'] as const;

export const DeployCheckSchema = z.object({
  name: z.enum(DEPLOY_CHECKS),
  ok: z.boolean(),
  /** One sentence: what was checked and what came out ("20 holdout rows: the endpoint's answers match the app's (largest difference 0)"). */
  detail: z.string(),
});
export type DeployCheck = z.infer<typeof DeployCheckSchema>;

export const DeployResultSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  /** The endpoint deployed to, or null when only a file was written. */
  endpoint: z.string().nullable(),
  url: z.string().nullable(),
  /** The bundle file, when the target was a file. */
  file: z.string().nullable(),
  /** What the endpoint served before (rollback goes back to it). */
  replaced: served.nullable(),
  checks: z.array(DeployCheckSchema),
  /** A curl command line that calls the endpoint with one real row ($TOKEN stands for the predict token unless the app knows it). */
  curl: z.string().nullable(),
  ok: z.boolean(),
});
export type DeployResult = z.infer<typeof DeployResultSchema>;

export const DeploymentRecordSchema = z.object({
  endpoint: z.string(),
  action: z.enum(['deploy', 'rollback']),
  model: z.string(),
  version: z.union([z.number(), z.string()]),
  at: z.string(),
  by: z.string(),
  ok: z.boolean(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecordSchema>;

export const DeployTargetSchema = z.discriminatedUnion('kind', [
  /** Write the bundle to a file (what the Export button does). */
  z.object({ kind: z.literal('file'), out: z.string().min(1).max(4096) }).strict(),
  /** Run on this PC: a local endpoint the app starts (made on first use, named `name`, default "this-pc"). */
  z.object({ kind: z.literal('local'), name: EndpointNameSchema.optional(), port: z.number().int().min(0).max(65535).optional() }).strict(),
  /** Push to an endpoint the workspace already knows. */
  z.object({ kind: z.literal('endpoint'), name: EndpointNameSchema }).strict(),
]);
export type DeployTarget = z.infer<typeof DeployTargetSchema>;
