import type { Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { answer } from '../core/kernel/filters.ts';
import { PERSON_TYPES } from '../core/protocol/events.ts';

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
      // Only what a person typed, sent, tapped or scanned, once: not a follow (the welcome's), not
      // the platform's notices and reports, not a photo or location button (the image or location
      // message that follows it is answered). Of the pushes this version does not know, a message
      // (not an event) is taken for something a person sent.
      const event = ctx.event;
      const person = event.type === 'unknown' ? event.msgType.trim().toLowerCase() !== 'event' : PERSON_TYPES.has(event.type);
      if (ctx.response || !person) return;
      if (config?.fallback !== undefined) return answer(ctx, config.fallback);
      ctx.log.debug('no plugin replied');
    },
  };
}
