// METRICS_PORT: a second listener for Prometheus, on this machine only.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/kernel/log.ts';
import { serveMetrics, type MetricsText } from '../metrics.ts';

/**
 * METRICS_PORT: /metrics on 127.0.0.1 without a token. A port that cannot be had stops the start,
 * as PORT's does.
 * @example
 * const server = await listenForMetrics(9464, runtime.metrics.text, log)
 */
export async function listenForMetrics(port: number, text: () => Promise<MetricsText>, log: Logger): Promise<Server> {
  try {
    const server = await serveMetrics(port, text);
    log.info(`metrics: http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    return server;
  } catch (error) {
    log.fatal({ err: error }, `cannot listen on 127.0.0.1, port ${port} (METRICS_PORT)`);
    process.exit(1);
  }
}
