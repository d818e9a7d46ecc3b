import type { JobKind } from '../../../shared/api';
import type { Workspace } from '../workspace/workspace';

/** What a job's code sees inside its worker thread. */
export interface JobContext {
  readonly workspaceDir: string;
  readonly appRoot: string;
  /** Reports progress; calls closer than 100 ms apart are merged. */
  progress(fraction: number, message?: string): void;
  /** True once someone asked the job to stop. Cheap enough to check in a hot loop. */
  readonly cancelled: boolean;
  /** Throws the cancellation error when cancel was asked for. */
  throwIfCancelled(): void;
}

/**
 * One kind of background job. `run` executes in a worker thread and must only
 * return plain data; `commit` runs on the main thread afterwards and writes
 * the result into the workspace, so all database writes stay in one process
 * and one transaction.
 */
export interface JobKindDef<P = unknown, R = unknown> {
  kind: JobKind;
  title(params: P): string;
  run(ctx: JobContext, params: P): Promise<R> | R;
  commit?(ws: Workspace, params: P, result: R): unknown;
}
