import { ApiArgumentError, ApiError, type QrCode, type WechatApi } from './api.ts';
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

const intentKey = (code: CampaignCode) => `${qrRecordKey(code)}:creating`;

/**
 * Creates a campaign's code and keeps it. A permanent code is written down as "being created"
 * first: if the answer is lost (a crash, a time-out), the next attempt knows not to spend another
 * of the account's 100,000 codes on it without a person's say (see {@link creationUncertain}).
 * @example
 * const record = await createCampaignCode(api, store, { scene: 1001, permanent: true })
 */
export async function createCampaignCode(api: WechatApi, store: Store, code: CampaignCode): Promise<QrRecord> {
  if (code.permanent) await store.set(intentKey(code), { at: Date.now() });
  let created: QrCode;
  try {
    created = await api.createQrCode(code);
  } catch (error) {
    // Refused locally or by WeChat with an errcode: nothing was created, the intent can go.
    const refused = error instanceof ApiArgumentError || (error instanceof ApiError && error.errcode !== undefined);
    if (code.permanent && refused) await store.delete(intentKey(code));
    throw error;
  }
  const record = await writeQrRecord(store, code, created);
  if (code.permanent) await store.delete(intentKey(code));
  return record;
}

/** True when creating this permanent code was interrupted and WeChat may have made it. */
export async function creationUncertain(store: Store, code: CampaignCode): Promise<boolean> {
  return Boolean(code.permanent && (await store.get(intentKey(code))));
}

/** Forgets an interrupted creation, so the next sync creates the code (after a person checked). */
export async function clearUncertain(store: Store, code: CampaignCode): Promise<void> {
  await store.delete(intentKey(code));
}
