// What the framework counts as it runs. The kernel names no metrics library: app/metrics.ts turns
// these calls into Prometheus text (prom-client), and without it nothing is counted.

/** How the callback ended for one push. */
export type PushOutcome =
  /** Answered with a passive reply. */
  | 'replied'
  /** Answered `success`, with no reply. */
  | 'success'
  /** A retry of a push already run: answered from the first run's reply, the chain not run again. */
  | 'replayed'
  /** The chain was still running at the deadline: answered with whatever reply was set by then. */
  | 'deadline'
  /** Refused with a 4xx (bad signature, stale timestamp, malformed body, …). */
  | 'refused';

/**
 * What became of a reply the chain produced after the deadline: sent; an attempt failed and
 * another will come (retry); given up (the 48 hours, WeChat's refusal, its lifetime); the hook
 * threw (failed); no hook (dropped).
 */
export type LateReplyOutcome = 'sent' | 'retry' | 'given_up' | 'failed' | 'dropped';

/**
 * The framework's counters. Each method is called on the path it counts and must be cheap and
 * never throw.
 * @example
 * wechatRouter(bot, { token, log, metrics: prometheus.metrics })
 */
export interface Metrics {
  /** One push answered (or refused) after `seconds`; `type` is the event's type, `unparsed` when refused before it was read. */
  push(type: string, outcome: PushOutcome, seconds: number): void;
  lateReply(outcome: LateReplyOutcome): void;
  /** One call of WeChat's API: errcode 0 when it succeeded, `network` when no answer came. */
  apiCall(api: string, errcode: number | 'network'): void;
  /** A new access_token was fetched from WeChat. */
  tokenRefresh(): void;
  /** A store operation failed or timed out. */
  storeError(op: string): void;
}

/** Counts nothing: the default of every part that takes {@link Metrics}. */
export const NO_METRICS: Metrics = {
  push: () => {},
  lateReply: () => {},
  apiCall: () => {},
  tokenRefresh: () => {},
  storeError: () => {},
};
