import { useStore } from './store';

/** Shows any failure as a toast with a sentence a person can act on; never a stack. */
export function reportError(err: unknown): void {
  const message =
    err instanceof Error && err.message && !/^[A-Za-z]*Error\b/.test(err.message)
      ? err.message
      : 'Something went wrong. Try again; if it keeps happening, see the log in the workspace folder.';
  useStore.getState().toast('error', message);
}
