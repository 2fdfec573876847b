// BOT_WORKERS=N: N processes serve the one port (node:cluster hands each connection to one of them).
// They share the SQLite file or Redis, so dedupe, counters, tokens and permanent codes stay exact.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../core/kernel/log.ts';
import { relayClusterMetrics } from '../metrics.ts';
import { listenForMetrics } from './metrics-port.ts';

const STOP_MS = 15_000; // a worker drains its pushes within 5 s; past this it is killed
const RESTART_MS = [100, 1000, 5000, 15_000]; // after a worker dies soon after another did

/**
 * Runs in the primary process: forks the workers, starts another when one dies, and on SIGTERM
 * or SIGINT asks each to drain and stop. A worker that dies before it ever listened means the bot
 * cannot start (a bad config, a port in use): everything stops, with exit status 1.
 * @example
 * if (settings.workers > 1 && cluster.isPrimary) return superviseWorkers(settings.workers, log)
 */
export async function superviseWorkers(count: number, log: Logger, metricsPort?: number): Promise<number> {
  const metricsText = relayClusterMetrics();
  const metricsServer = metricsPort === undefined ? undefined : await listenForMetrics(metricsPort, metricsText, log);
  const code = await new Promise<number>((resolve) => {
    const listened = new WeakSet<Worker>();
    let stopping = false;
    let failed = false;
    let recentDeaths = 0;

    const fork = () => {
      const worker = cluster.fork();
      worker.once('listening', () => listened.add(worker));
    };
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down the workers');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      setTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      }, STOP_MS).unref();
    };

    cluster.on('exit', (worker, code, signal) => {
      if (!stopping && !listened.has(worker)) {
        log.fatal({ pid: worker.process.pid, code }, 'a worker could not start: stopping');
        failed = true;
        stop('SIGTERM');
      } else if (!stopping) {
        const delay = RESTART_MS[Math.min(recentDeaths++, RESTART_MS.length - 1)]!;
        setTimeout(() => (recentDeaths = Math.max(0, recentDeaths - 1)), 60_000).unref();
        log.error({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'a worker died: starting another');
        setTimeout(() => void (!stopping && fork()), delay);
      }
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('stopped');
        resolve(failed || (code !== 0 && code !== null) ? 1 : 0);
      }
    });
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    log.info({ workers: count }, `starting ${count} workers on one port`);
    for (let i = 0; i < count; i++) fork();
  });
  metricsServer?.close();
  return code;
}
