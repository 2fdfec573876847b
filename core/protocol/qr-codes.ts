import type { ConfigIssue } from './menu.ts';

/** Every run-time scene starts with this; campaign scenes may not, so the two never collide. */
export const DYNAMIC_SCENE_PREFIX = 'd_';

/** WeChat's bounds for parametric QR codes. */
export const QR_LIMITS = {
  permanentSceneId: { min: 1, max: 100_000 },
  temporarySceneId: { min: 1, max: 0xffff_ffff },
  sceneStrLength: { min: 1, max: 64 },
  expireSeconds: { min: 1, max: 2_592_000 },
} as const;

/** How long a campaign's code lives: for ever, or a number of seconds (renewed by the sync). */
export type CampaignLifetime =
  { readonly permanent: true; readonly expireSeconds?: never } | { readonly permanent?: false; readonly expireSeconds: number };

/** The QR-code part of a campaign: its scene and lifetime. */
export type CampaignCode = { readonly scene: number | string } & CampaignLifetime;

/** WeChat's action_name for a code. */
export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE';

/**
 * The action_name WeChat needs for a campaign's code.
 * @example
 * actionNameOf({ scene: 7, permanent: true })               // 'QR_LIMIT_SCENE'
 * actionNameOf({ scene: 'spring', expireSeconds: 86400 })   // 'QR_STR_SCENE'
 */
export function actionNameOf(code: CampaignCode): QrActionName {
  const kind = typeof code.scene === 'number' ? 'SCENE' : 'STR_SCENE';
  return code.permanent ? `QR_LIMIT_${kind}` : `QR_${kind}`;
}

/**
 * Checks one campaign's scene and lifetime against WeChat's limits.
 * @example
 * validateCampaignCode({ scene: 0, permanent: true }, 'campaigns.spring') // [{ path: 'campaigns.spring.scene', … }]
 */
export function validateCampaignCode(code: Partial<Record<keyof CampaignCode, unknown>>, at: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { scene, permanent, expireSeconds } = code;
  if (permanent !== undefined && typeof permanent !== 'boolean')
    issues.push({ path: `${at}.permanent`, message: 'must be true or left out' });
  if (permanent === true && expireSeconds !== undefined) {
    issues.push({ path: `${at}.expireSeconds`, message: 'a permanent code does not expire: remove expireSeconds or permanent' });
  }
  if (permanent !== true) {
    const { min, max } = QR_LIMITS.expireSeconds;
    if (expireSeconds === undefined) issues.push({ path: at, message: 'set permanent: true, or expireSeconds for a temporary code' });
    else if (!Number.isInteger(expireSeconds) || (expireSeconds as number) < min || (expireSeconds as number) > max) {
      issues.push({ path: `${at}.expireSeconds`, message: `must be a whole number of seconds from ${min} to ${max} (30 days)` });
    }
  }
  if (typeof scene === 'number') {
    const { min, max } = permanent === true ? QR_LIMITS.permanentSceneId : QR_LIMITS.temporarySceneId;
    if (!Number.isInteger(scene) || scene < min || scene > max) {
      issues.push({
        path: `${at}.scene`,
        message: `a ${permanent === true ? 'permanent' : 'temporary'} numeric scene must be a whole number from ${min} to ${max}`,
      });
    }
  } else if (typeof scene === 'string') {
    const { min, max } = QR_LIMITS.sceneStrLength;
    if (scene.length < min || scene.length > max)
      issues.push({ path: `${at}.scene`, message: `a string scene has ${min} to ${max} characters` });
    if (scene.startsWith('qrscene_'))
      issues.push({ path: `${at}.scene`, message: 'must not start with qrscene_ (WeChat adds that prefix itself)' });
  } else {
    issues.push({ path: `${at}.scene`, message: 'must be a number (scene_id) or a string (scene_str)' });
  }
  return issues;
}
