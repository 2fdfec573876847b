/** A JSON object, as WeChat's API takes and answers them. */
export type Json = Record<string, unknown>;

/**
 * What a family of wrappers (users, tags, media, …) needs of the client: any endpoint under
 * /cgi-bin/, with the shared token, the retries and ApiError.
 */
export interface ApiCalls {
  get(path: string, query?: Record<string, string>): Promise<Json>;
  post(path: string, body: Json, query?: Record<string, string>): Promise<Json>;
}

/** The list in slices of at most `size`: WeChat's batch limits (50 OpenIDs a tagging, 100 a batchget). */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The OpenIDs of a page WeChat lists them in: `{ data: { openid: [...] } }`, absent on an empty page. */
export function openidsOf(page: Json): string[] {
  const data = page.data as { openid?: unknown } | undefined;
  return Array.isArray(data?.openid) ? (data.openid as string[]) : [];
}

/** A file an endpoint answered with (media/get): its bytes, its content type and its name. */
export class DownloadedFile {
  constructor(
    readonly bytes: Uint8Array,
    readonly contentType: string,
    readonly filename: string | undefined,
  ) {}
}
