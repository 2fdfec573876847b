import { hash, randomBytes } from 'node:crypto';

/** What a page passes to wx.config, besides the APIs it wants. */
export interface JssdkConfig {
  appId: string;
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/**
 * The JS-SDK signature: sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, the keys in that
 * order, the page's URL without its #fragment.
 * @example
 * jssdkSignature({ ticket, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value' })
 * // '0f9de62fce790f9a083d5c99e95740ceb90c27ed' (the documentation's appendix)
 */
export function jssdkSignature(input: { ticket: string; nonceStr: string; timestamp: number; url: string }): string {
  const url = input.url.split('#')[0]!;
  return hash('sha1', `jsapi_ticket=${input.ticket}&noncestr=${input.nonceStr}&timestamp=${input.timestamp}&url=${url}`, 'hex');
}

/**
 * A signed wx.config for one page: a fresh nonce, the current second.
 * @example
 * jssdkConfig({ appId, ticket: await api.jsapiTicket(), url: 'https://shop.example.com/coupon' })
 */
export function jssdkConfig(input: { appId: string; ticket: string; url: string }): JssdkConfig {
  const nonceStr = randomBytes(12).toString('base64url');
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    appId: input.appId,
    timestamp,
    nonceStr,
    signature: jssdkSignature({ ticket: input.ticket, nonceStr, timestamp, url: input.url }),
  };
}
