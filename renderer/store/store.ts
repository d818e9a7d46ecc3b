import { create } from 'zustand';
import { createDataSlice, type DataSlice } from './data-slice';
import { createJobsSlice, type JobsSlice } from './jobs-slice';
import { createUiSlice, pageOfRoute, paramFromHash, pathFromHash, routeFromHash, type UiSlice } from './ui-slice';
import { createImportSlice, type ImportSlice } from './import-slice';
import { createModelsSlice, type ModelsSlice } from './models-slice';
import { createScoreSlice, type ScoreSlice } from './score-slice';
import { setErrorSink } from './report-error';
import { createRegistrySlice, type RegistrySlice } from './registry-slice';
import { createAuditSlice, type AuditSlice } from './audit-slice';
import { createDeploySlice, type DeploySlice } from './deploy-slice';
import { createMonitorSlice, type MonitorSlice } from './monitor-slice';
import { createFeedbackSlice, type FeedbackSlice } from './feedback-slice';
import { createRecordSlice, type RecordSlice } from './record-slice';

export type State = UiSlice & JobsSlice & DataSlice & ImportSlice & ModelsSlice & ScoreSlice & RegistrySlice & AuditSlice & DeploySlice & MonitorSlice & FeedbackSlice & RecordSlice;

/** One store, one slice per feature. Components select only what they render. */
export const useStore = create<State>()((...a) => ({
  ...createUiSlice(...a),
  ...createJobsSlice(...a),
  ...createDataSlice(...a),
  ...createImportSlice(...a),
  ...createModelsSlice(...a),
  ...createScoreSlice(...a),
  ...createRegistrySlice(...a),
  ...createAuditSlice(...a),
  ...createDeploySlice(...a),
  ...createMonitorSlice(...a),
  ...createFeedbackSlice(...a),
  ...createRecordSlice(...a),
}));

setErrorSink((message) => useStore.getState().toast('error', message));

// Back, Forward and typed or linked addresses change the hash; follow them from the first moment,
// not only once React has mounted.
const followHash = () => {
  const route = routeFromHash(location.hash);
  const pageParam = paramFromHash(location.hash);
  const pagePath = pathFromHash(location.hash);
  const s = useStore.getState();
  if (s.route !== route || s.pageParam !== pageParam || s.pagePath.join('/') !== pagePath.join('/')) useStore.setState({ page: pageOfRoute(route), route, pageParam, pagePath });
};
window.addEventListener('popstate', followHash);
window.addEventListener('hashchange', followHash);
