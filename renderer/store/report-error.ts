type Sink = (message: string) => void;

let sink: Sink = () => undefined;

/** The store registers where errors go; this module imports nothing, so slices can use it without an import cycle. */
export function setErrorSink(s: Sink): void {
  sink = s;
}

/** The sentence to show for a failure: the core's own words, or a short generic one for anything that looks like a programming error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error && err.message && !/^[A-Za-z]*Error\b/.test(err.message)
    ? err.message
    : 'Something went wrong. Try again; if it keeps happening, see the log in the workspace folder.';
}

/** Shows any failure as a toast with a sentence a person can act on; never a stack. */
export function reportError(err: unknown): void {
  sink(errorMessage(err));
}
