import { ApiArgumentError, ApiError, type QrCode, type WechatApi } from './client.ts';
import { actionNameOf, type CampaignCode } from '../protocol/qr-codes.ts';
import type { Store } from '../state/store.ts';

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
// An interrupted creation waits for a person: kept for years, not for ever, so a store never fills.
const INTENT_MS = 5 * 365 * 24 * 3600_000;

/** Another instance is creating this permanent code, or an earlier creation was interrupted. */
export class CreationInProgress extends Error {
  override name = 'CreationInProgress';
}

/**
 * Creates a campaign's code and keeps it. A permanent code is written down as "being created"
 * first: if the answer is lost (a crash, a time-out), the next attempt knows not to spend another
 * of the account's 100,000 codes on it without a person's say (see {@link creationState}).
 * @example
 * const record = await createCampaignCode(api, store, { scene: 1001, permanent: true })
 */
export async function createCampaignCode(api: WechatApi, store: Store, code: CampaignCode): Promise<QrRecord> {
  // Claimed, not set: of several instances syncing at once, one creates the code.
  if (code.permanent && !(await store.claim(intentKey(code), { at: Date.now() }, INTENT_MS))) {
    const { since } = await creationState(store, code);
    throw new CreationInProgress(
      `another instance holds the claim to create the permanent code of scene ${code.scene}${since ? ` (since ${new Date(since).toISOString()})` : ''}`,
    );
  }
  let created: QrCode;
  try {
    created = await api.createQrCode(code);
  } catch (error) {
    // Refused locally, refused by WeChat with an errcode, or never sent (no token, no connection):
    // nothing was created, the intent can go. Only an answer lost after sending leaves it uncertain.
    const refused = error instanceof ApiArgumentError || (error instanceof ApiError && (error.errcode !== undefined || !error.reached));
    if (code.permanent && refused) await store.delete(intentKey(code));
    throw error;
  }
  const record = await writeQrRecord(store, code, created);
  if (code.permanent) await store.delete(intentKey(code));
  return record;
}

/** A creation underway for a minute at most; older, it was interrupted. */
const UNDERWAY_MS = 60_000;

/**
 * Where the creation of a permanent code stands: 'none'; 'underway' (an instance holds the claim
 * to create it); 'interrupted' (its answer was lost, and WeChat may have made it: a person must
 * check). `since`: when the claim was taken.
 */
export async function creationState(store: Store, code: CampaignCode): Promise<CreationState> {
  if (!code.permanent) return { state: 'none' };
  const intent = await store.get<{ at: number }>(intentKey(code));
  if (!intent) return { state: 'none' };
  return { state: Date.now() - intent.at < UNDERWAY_MS ? 'underway' : 'interrupted', since: intent.at };
}

/** What {@link creationState} says. */
export interface CreationState {
  state: 'none' | 'underway' | 'interrupted';
  since?: number;
}

/** Forgets an interrupted creation, so the next sync creates the code (after a person checked). */
export async function clearUncertain(store: Store, code: CampaignCode): Promise<void> {
  await store.delete(intentKey(code));
}
