import Router from '@koa/router';
import { LRUCache } from 'lru-cache';
import type { ResolvedConfig } from '../core/config/bot-config.ts';
import { qrSvg, type QrRenderer } from '../core/api/qr-image.ts';
import { readQrRecord } from '../core/api/qr-records.ts';
import type { Store } from '../core/state/store.ts';
import { rateLimit, tooManyRequests } from './rate-limit.ts';

/** Options of {@link qrRoutes}. */
export interface QrRoutesOptions {
  config: ResolvedConfig;
  store: Store;
  /** Renders the PNGs off the event loop. */
  renderer: QrRenderer;
  /** Images one client (by IP) may have rendered per minute (those not in memory yet); 60 by default. */
  perMinute?: number;
}

// The widths a PNG is served at: a size in between gets the next one up, a larger one the last.
// 2048 px prints 17 cm wide at 300 dpi, and each doubling costs four times the CPU.
const QR_SIZES = [128, 256, 512, 1024, 2048] as const;

/**
 * A campaign's code as a print-ready image at /qr/<campaign>.png?size=1024 or .svg, rendered
 * locally from the url WeChat gave. Each code and size is rendered once and then served from
 * memory; requests arriving while it renders wait for that same render. A client asking for more
 * than `perMinute` renders in a minute gets 429.
 * @example
 * app.use(qrRoutes({ config, store, renderer: new QrRenderer() }).routes())
 */
export function qrRoutes(options: QrRoutesOptions): Router {
  const { config, store, renderer } = options;
  const perMinute = options.perMinute ?? 60;
  const limit = rateLimit({ store, name: 'qr', perMinute });
  const router = new Router();
  // Promises, so a render in flight is shared; a failed one is dropped so the next request retries.
  const rendered = new LRUCache<string, Promise<Buffer | string>>({ max: 64 });
  router.get('/qr/:file', async (koa) => {
    const match = /^(.+)\.(png|svg)$/.exec(koa.params.file ?? '');
    const campaign = match ? config.campaigns.get(match[1]!) : undefined;
    if (!match || !campaign) {
      koa.status = 404;
      koa.body = 'no such campaign';
      return;
    }
    const record = await readQrRecord(store, campaign);
    if (!record) {
      koa.status = 404;
      koa.body = 'this campaign has no code yet: the start-up sync creates it';
      return;
    }
    const wanted = Number(koa.query.size) || 1024;
    const size = QR_SIZES.find((s) => s >= wanted) ?? QR_SIZES.at(-1)!;
    const key = `${record.url}|${match[2]}|${size}`;
    let image = rendered.get(key);
    // Only what must be rendered counts: a page showing codes already in memory is never refused.
    if (!image && !(await limit.take(koa))) return tooManyRequests(koa, `at most ${perMinute} images rendered a minute per client`);
    image = rendered.get(key); // another request may have started it meanwhile
    if (!image) {
      const rendering = match[2] === 'png' ? renderer.png(record.url, { size }) : qrSvg(record.url);
      rendering.catch(() => rendered.get(key) === rendering && rendered.delete(key));
      rendered.set(key, (image = rendering));
    }
    koa.set('Cache-Control', 'no-cache');
    koa.type = match[2]!;
    koa.body = await image;
  });
  return router;
}
