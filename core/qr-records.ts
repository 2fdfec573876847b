import type { QrCode } from './api.ts';
import { actionNameOf, type CampaignCode } from './campaigns.ts';
import type { Store } from './store.ts';

/** A code created through WeChat's API, as kept in the store. */
export interface QrRecord {
  ticket: string;
  url: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; absent for permanent codes. */
  expiresAt?: number;
}

/**
 * The store key of a code: by kind and scene, not by campaign name, so renaming a campaign never
 * creates its permanent code again.
 * @example
 * qrRecordKey({ scene: 1001, permanent: true }) // 'qr:QR_LIMIT_SCENE:1001'
 */
export function qrRecordKey(code: CampaignCode): string {
  return `qr:${actionNameOf(code)}:${code.scene}`;
}

/** The stored code of a campaign, if one was created (and, for a temporary one, has not expired). */
export async function readQrRecord(store: Store, code: CampaignCode): Promise<QrRecord | undefined> {
  const record = await store.get<QrRecord>(qrRecordKey(code));
  return record && (record.expiresAt === undefined || record.expiresAt > Date.now()) ? record : undefined;
}

/** Keeps a created code; a temporary one is kept as long as it lives. */
export async function writeQrRecord(store: Store, code: CampaignCode, created: QrCode): Promise<QrRecord> {
  const now = Date.now();
  const lifetimeMs = code.permanent ? undefined : (created.expireSeconds ?? code.expireSeconds) * 1000;
  const record: QrRecord = {
    ticket: created.ticket,
    url: created.url,
    createdAt: now,
    ...(lifetimeMs ? { expiresAt: now + lifetimeMs } : {}),
  };
  await store.set(qrRecordKey(code), record, lifetimeMs);
  return record;
}
