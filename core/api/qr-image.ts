import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import QRCode from 'qrcode';

/** Options of the QR renderers. */
export interface QrImageOptions {
  /** Width of a PNG in pixels; 1024 prints sharp at about 8.5 cm at 300 dpi. */
  size?: number;
  /** Quiet zone in modules; 4 is the standard's minimum for reliable scanning. */
  margin?: number;
}

// Medium error correction: room for a logo sticker or print wear, still a small code.
const BASE = { errorCorrectionLevel: 'M' } as const;

const pngOptions = (options: QrImageOptions) =>
  ({ ...BASE, type: 'png', width: options.size ?? 1024, margin: options.margin ?? 4 }) as const satisfies QRCode.QRCodeToBufferOptions;

/**
 * Renders a code's content (the `url` qrcode/create answered) as a PNG, on this thread: for scripts
 * like `npm run qr`. A server renders with a {@link QrRenderer}, which keeps its event loop free.
 * @example
 * writeFileSync('spring.png', await qrPng(record.url, { size: 2048 }))
 */
export async function qrPng(content: string, options: QrImageOptions = {}): Promise<Buffer> {
  return QRCode.toBuffer(content, pngOptions(options));
}

/**
 * Renders a code's content as an SVG, which scales to any print size. Cheap: a string of a few KB.
 * @example
 * writeFileSync('spring.svg', await qrSvg(record.url))
 */
export async function qrSvg(content: string, options: QrImageOptions = {}): Promise<string> {
  return QRCode.toString(content, { ...BASE, type: 'svg', margin: options.margin ?? 4, ...(options.size ? { width: options.size } : {}) });
}

// The worker is plain CommonJS evaluated from this string, so it needs neither tsx nor a build
// step; qrcode is required by the path this module resolved it to.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const QRCode = require(workerData.qrcode);
parentPort.on('message', ({ id, content, options }) => {
  QRCode.toBuffer(content, options).then(
    (png) => parentPort.postMessage({ id, png }),
    (error) => parentPort.postMessage({ id, error: String(error && error.message) }),
  );
});
`;

interface Job {
  resolve(png: Buffer): void;
  reject(error: Error): void;
}

/**
 * Renders PNGs in one worker thread, started on first use: a 2048 px code takes the better part of
 * a second of CPU, which must not be taken from WeChat's pushes. The worker holds the process open
 * only while it has work, and {@link QrRenderer.close} stops it.
 * @example
 * const renderer = new QrRenderer()
 * const png = await renderer.png(record.url, { size: 1024 })
 * await renderer.close()
 */
export class QrRenderer {
  #worker: Worker | undefined;
  #jobs = new Map<number, Job>();
  #next = 0;
  #closed = false;

  /** Renders as {@link qrPng} does, in the worker. */
  png(content: string, options: QrImageOptions = {}): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error('the QR renderer is closed'));
    const worker = this.#start();
    const id = ++this.#next;
    if (this.#jobs.size === 0) worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      worker.postMessage({ id, content, options: pngOptions(options) });
    });
  }

  /** Stops the worker; renders still running fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#fail(new Error('the QR renderer is closed'));
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER, {
      eval: true,
      // Not the parent's --import tsx: the worker is plain JavaScript.
      execArgv: [],
      workerData: { qrcode: createRequire(import.meta.url).resolve('qrcode') },
    });
    worker.unref();
    worker.on('message', ({ id, png, error }: { id: number; png?: Uint8Array; error?: string }) => {
      const job = this.#jobs.get(id);
      this.#jobs.delete(id);
      if (this.#jobs.size === 0) worker.unref();
      if (png) job?.resolve(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
      else job?.reject(new Error(`QR image: ${error}`));
    });
    // A worker that dies takes its jobs with it; the next render starts a new one.
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#fail(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the QR renderer stopped (exit code ${code})`)));
    return (this.#worker = worker);
  }

  #fail(error: Error): void {
    for (const job of this.#jobs.values()) job.reject(error);
    this.#jobs.clear();
  }
}
