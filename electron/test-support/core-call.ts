import { expect } from 'vitest';
import type { Input, MethodName, Output } from '../../shared/api';
import type { Core } from '../services/compose';

/** A typed `call` into a core that throws the reply's error (with its code) instead of returning an envelope. */
export function coreCaller(core: () => Core) {
  return async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
    const env = await core().call(name, arg);
    if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code, field: env.error.field });
    return env.value as Output<K>;
  };
}

export type CoreCall = ReturnType<typeof coreCaller>;

/** Imports a CSV file as dataset `name` (settings as detected, with `settings` over them) and waits for it. */
export async function importCsv(core: Core, call: CoreCall, file: string, name: string, settings: Record<string, unknown> = {}): Promise<void> {
  const inspected = await call('imports.inspect', { paths: [file] });
  const job = await call('imports.analyze', { paths: [file], settings: { ...inspected.settings, ...settings }, save: { name } });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}

/** Trains a model version (training.start's argument) and waits for it. */
export async function trainModel(core: Core, call: CoreCall, arg: Record<string, unknown>): Promise<void> {
  const job = await call('training.start', arg);
  const done = await core.jobs.wait(job.id);
  expect(done.state, JSON.stringify(done.error)).toBe('done');
}
