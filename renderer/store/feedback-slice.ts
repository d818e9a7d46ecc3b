import type { StateCreator } from 'zustand';
import type { JobInfo, ModelVersionInfo } from '../../shared/api';
import type { ChallengerReport, Episode, EpisodeDetail, FeedbackSettings, FeedbackSuggestion, Inbox, LabelsResult, Recalibration, ShadowSummary, Verdict } from '../../shared/feedback';
import { call } from '../api/api';
import { type ListStatus, mergeCards } from '../pages/inbox/inbox-logic';
import { errorMessage, reportError } from './report-error';
import type { State } from './store';

/** One episode's card data: its chart and answer history, or why it cannot be shown. */
export type DetailView = { detail: EpisodeDetail; error: null } | { detail: null; error: string } | { detail: null; error: null };

/** What the Improve panel of one model shows. */
export interface ImproveView {
  model: string;
  suggestions: FeedbackSuggestion[] | null;
  report: ChallengerReport | null;
  error: string | null;
  /** Opened by "See the effect" on a recalibration suggestion. */
  recalibration: Recalibration | null;
  recalibrating: boolean;
  /** The dataset version "Add my answers to the data" made. */
  labels: LabelsResult | null;
  /** The retrain job started from this panel. */
  retrainJob: string | null;
}

export interface FeedbackSlice {
  inbox: Inbox | null;
  inboxError: string | null;
  /** The cards the Inbox shows: the due episodes, and those answered while the page was open (collapsed). */
  inboxCards: number[];
  /** Every episode the app has read, by id, kept current by answers. */
  episodesById: Record<number, Episode>;
  episodeList: { status: ListStatus; ids: number[] | null; error: string | null };
  details: Record<number, DetailView>;
  causes: { cause: string; count: number }[];
  /** "Ask me now" is running. */
  asking: boolean;
  feedbackSettings: FeedbackSettings | null;
  improve: ImproveView | null;

  /** Quietly (the navigation badge loads it at start) unless `loud`. */
  loadInbox(loud?: boolean): Promise<void>;
  loadEpisodes(status?: ListStatus): Promise<void>;
  loadEpisode(id: number): Promise<void>;
  loadCauses(): Promise<void>;
  /** Stores an answer: null when done, else the core's sentence. */
  answer(id: number, verdict: Verdict, cause?: string, comment?: string): Promise<string | null>;
  askNow(): Promise<void>;
  /** AppEvent {type:'feedback'} or {type:'prompt'}: episodes were found, grown or answered. */
  noteFeedback(): void;
  notePrompt(message: string): void;
  loadFeedbackSettings(): Promise<void>;
  configureFeedback(s: Partial<FeedbackSettings>): Promise<string | null>;

  loadImprove(model: string): Promise<void>;
  recalibrate(model: string): Promise<void>;
  applyThreshold(model: string, version: number, threshold: number, reason: string): Promise<{ made: ModelVersionInfo } | { refused: string }>;
  addAnswersToData(model: string): Promise<string | null>;
  retrain(model: string): Promise<string | null>;
  decideChallenger(model: string, decision: { promote: true; deploy: boolean } | { promote: false }, reason: string): Promise<{ done: ModelVersionInfo } | { refused: string }>;
  shadow(model: string, endpoint: string, on: boolean): Promise<ShadowSummary | string | null>;
}

const emptyImprove = (model: string): ImproveView => ({ model, suggestions: null, report: null, error: null, recalibration: null, recalibrating: false, labels: null, retrainJob: null });

export const createFeedbackSlice: StateCreator<State, [], [], FeedbackSlice> = (set, get) => {
  const keep = (episodes: readonly Episode[]) => set({ episodesById: { ...get().episodesById, ...Object.fromEntries(episodes.map((e) => [e.id, e])) } });
  /** Applies a change to the Improve view of `model` only if it is still the one shown. */
  const patchImprove = (model: string, p: Partial<ImproveView>) => {
    const now = get().improve;
    if (now?.model === model) set({ improve: { ...now, ...p } });
  };
  const takeInbox = (inbox: Inbox) => {
    keep(inbox.due);
    set({ inbox, inboxError: null, inboxCards: mergeCards(get().inboxCards, inbox.due.slice(0, 5).map((e) => e.id)) });
  };

  return {
    inbox: null,
    inboxError: null,
    inboxCards: [],
    episodesById: {},
    episodeList: { status: 'unanswered', ids: null, error: null },
    details: {},
    causes: [],
    asking: false,
    feedbackSettings: null,
    improve: null,

    async loadInbox(loud = false) {
      try {
        takeInbox(await call('feedback.inbox', {}));
      } catch (err) {
        if (loud) set({ inboxError: errorMessage(err) });
      }
    },
    async loadEpisodes(status) {
      const s = status ?? get().episodeList.status;
      const before = get().episodeList;
      set({ episodeList: { status: s, ids: before.status === s ? before.ids : null, error: null } });
      try {
        const list = await call('feedback.list', { status: s, limit: 200 });
        keep(list);
        if (get().episodeList.status === s) set({ episodeList: { status: s, ids: list.map((e) => e.id), error: null } });
      } catch (err) {
        if (get().episodeList.status === s) set({ episodeList: { status: s, ids: get().episodeList.ids, error: errorMessage(err) } });
      }
    },
    async loadEpisode(id) {
      if (!get().details[id]) set({ details: { ...get().details, [id]: { detail: null, error: null } } });
      try {
        const detail = await call('feedback.get', { id });
        keep([detail.episode]);
        set({ details: { ...get().details, [id]: { detail, error: null } } });
      } catch (err) {
        set({ details: { ...get().details, [id]: { detail: null, error: errorMessage(err) } } });
      }
    },
    async loadCauses() {
      try {
        set({ causes: await call('feedback.causes', {}) });
      } catch {
        // The picker still takes a typed cause.
      }
    },
    async answer(id, verdict, cause, comment) {
      try {
        const e = await call('feedback.answer', { id, verdict, ...(verdict === 'real' && cause?.trim() ? { cause: cause.trim() } : {}), ...(comment?.trim() ? { comment: comment.trim() } : {}) });
        keep([e]);
        if (verdict === 'real' && cause) void get().loadCauses();
        // The answer history on the card, and the badge.
        if (get().details[id]) void get().loadEpisode(id);
        void get().loadInbox();
        if (get().episodeList.ids) void get().loadEpisodes();
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async askNow() {
      if (get().asking) return;
      set({ asking: true });
      try {
        const inbox = await call('feedback.prompt', {});
        takeInbox(inbox);
        if (inbox.due.length === 0) get().toast('info', 'Nothing new to ask about: every episode found so far has an answer or is still growing.');
      } catch (err) {
        reportError(err);
      } finally {
        set({ asking: false });
      }
    },
    noteFeedback() {
      const s = get();
      void s.loadInbox();
      if (s.page === 'inbox') void s.loadEpisodes();
      const m = s.improve?.model;
      if (m && s.page === 'models') void s.loadImprove(m);
    },
    notePrompt(message) {
      get().noteFeedback();
      if (get().page !== 'inbox') get().toast('info', message);
    },
    async loadFeedbackSettings() {
      try {
        set({ feedbackSettings: await call('feedback.settings', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    async configureFeedback(s) {
      try {
        set({ feedbackSettings: await call('feedback.configure', s) });
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },

    async loadImprove(model) {
      if (get().improve?.model !== model) set({ improve: emptyImprove(model) });
      // Each half shows on its own: suggestions without a comparison, or the other way round.
      const [suggestions, report] = await Promise.allSettled([call('feedback.suggestions', { model }), call('challenger.report', { model })]);
      const failed = [suggestions, report].find((r) => r.status === 'rejected');
      patchImprove(model, {
        suggestions: suggestions.status === 'fulfilled' ? suggestions.value : [],
        report: report.status === 'fulfilled' ? report.value : null,
        error: failed ? errorMessage(failed.reason) : null,
      });
    },
    async recalibrate(model) {
      patchImprove(model, { recalibrating: true });
      try {
        patchImprove(model, { recalibration: await call('feedback.recalibration', { model }), recalibrating: false });
      } catch (err) {
        patchImprove(model, { recalibrating: false });
        reportError(err);
      }
    },
    async applyThreshold(model, version, threshold, reason) {
      try {
        const made = await call('feedback.applyThreshold', { model, version, threshold, reason });
        get().toast('success', `Made version ${made.version} of ${model} with the new alarm level. It is the challenger; compare it below before promoting it.`);
        void get().loadImprove(model);
        return { made };
      } catch (err) {
        return { refused: errorMessage(err) };
      }
    },
    async addAnswersToData(model) {
      try {
        const labels = await call('feedback.addToData', { model });
        patchImprove(model, { labels });
        void get().loadDatasets();
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async retrain(model) {
      try {
        const job: JobInfo = await call('retrain.start', { model });
        get().upsertJob(job);
        patchImprove(model, { retrainJob: job.id });
        return null;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async decideChallenger(model, decision, reason) {
      try {
        const done = decision.promote ? await call('challenger.promote', { model, reason, deploy: decision.deploy }) : await call('challenger.discard', { model, reason });
        get().toast('success', decision.promote ? `Version ${done.version} of ${model} is now in production.` : `Version ${done.version} of ${model} is no longer the challenger.`);
        void get().loadImprove(model);
        void get().loadModels();
        void get().loadEndpoints();
        return { done };
      } catch (err) {
        return { refused: errorMessage(err) };
      }
    },
    async shadow(model, endpoint, on) {
      try {
        const r = on ? await call('shadow.start', { endpoint, model }) : (await call('shadow.stop', { endpoint }), null);
        void get().loadImprove(model);
        return r;
      } catch (err) {
        return errorMessage(err);
      }
    },
  };
};
