import type { ApiClient, Input, MethodName, Output } from '../../shared/api';

let client: ApiClient | null = null;

export function setClient(c: ApiClient): void {
  client = c;
}

export function api(): ApiClient {
  if (!client) throw new Error('The API client is not set up.');
  return client;
}

export function call<K extends MethodName>(name: K, arg: Input<K>): Promise<Output<K>> {
  return api().call(name, arg);
}
