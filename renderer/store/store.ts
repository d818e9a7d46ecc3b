import { create } from 'zustand';
import { createDataSlice, type DataSlice } from './data-slice';
import { createJobsSlice, type JobsSlice } from './jobs-slice';
import { createUiSlice, type UiSlice } from './ui-slice';
import { setErrorSink } from './report-error';

export type State = UiSlice & JobsSlice & DataSlice;

/** One store, one slice per feature. Components select only what they render. */
export const useStore = create<State>()((...a) => ({
  ...createUiSlice(...a),
  ...createJobsSlice(...a),
  ...createDataSlice(...a),
}));

setErrorSink((message) => useStore.getState().toast('error', message));
