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

/**
 * Renders a code's content (the `url` qrcode/create answered) as a PNG.
 * @example
 * writeFileSync('spring.png', await qrPng(record.url, { size: 2048 }))
 */
export async function qrPng(content: string, options: QrImageOptions = {}): Promise<Buffer> {
  return QRCode.toBuffer(content, { ...BASE, type: 'png', width: options.size ?? 1024, margin: options.margin ?? 4 });
}

/**
 * Renders a code's content as an SVG, which scales to any print size.
 * @example
 * writeFileSync('spring.svg', await qrSvg(record.url))
 */
export async function qrSvg(content: string, options: QrImageOptions = {}): Promise<string> {
  return QRCode.toString(content, { ...BASE, type: 'svg', margin: options.margin ?? 4, ...(options.size ? { width: options.size } : {}) });
}
