import type { Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { answer } from '../core/kernel/filters.ts';

// Events WeChat shows no reply to, reports rather than user actions, and follows (the welcome answers those).
const SILENT = new Set([
  'subscribe',
  'unsubscribe',
  'view',
  'view_miniprogram',
  'location_report',
  'template_send_job_finish',
  'mass_send_job_finish',
  'publish_job_finish',
]);

/**
 * Last in the chain: answers with `fallback` when nothing else replied to something the user did.
 * @example
 * new Bot({ services, plugins: [...others, fallback()] }) // answers with the config's `fallback`
 */
export function fallback(): Plugin {
  let config: ResolvedConfig | undefined;
  return {
    name: 'fallback',
    init(services) {
      config = services.config;
    },
    middleware(ctx) {
      // Events this version does not know are the platform's notices, not a user waiting for an answer.
      if (ctx.response || SILENT.has(ctx.event.type) || (ctx.event.type === 'unknown' && ctx.event.msgType === 'event')) return;
      if (config?.fallback !== undefined) return answer(ctx, config.fallback);
      ctx.log.debug('no plugin replied');
    },
  };
}
