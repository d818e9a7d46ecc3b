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
