/** A JSON object, as WeChat's API takes and answers them. */
export type Json = Record<string, unknown>;

/** WeChat's answer of success. */
export const ok = (): Json => ({ errcode: 0, errmsg: 'ok' });

/** WeChat's answer of a refusal: HTTP 200 with an errcode. */
export const error = (errcode: number, errmsg: string): Json => ({ errcode, errmsg });
