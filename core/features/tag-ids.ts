import { ApiError, type WechatApi } from '../api/client.ts';

/**
 * The ids of the account's tags by name, found with tags/get and created when missing: what the
 * sync and the campaign tagger share. Only what it is asked for is created; nothing is deleted.
 * @example
 * const id = await new TagIds(api).idOf('春季海报')
 */
export class TagIds {
  readonly #api: WechatApi;
  #known: Map<string, number> | undefined;
  readonly #pending = new Map<string, Promise<number>>();

  constructor(api: WechatApi) {
    this.#api = api;
  }

  /** The ids of the tags that exist now, by name (one tags/get). */
  async refresh(): Promise<ReadonlyMap<string, number>> {
    this.#known = new Map((await this.#api.tags.list()).map((tag) => [tag.name, tag.id]));
    return this.#known;
  }

  /** The id of a tag that exists, or undefined, without creating it. */
  async find(name: string): Promise<number | undefined> {
    return (this.#known ?? (await this.refresh())).get(name);
  }

  /** Forgets a tag's id (WeChat said 45159: someone deleted the tag), so the next use finds or makes it again. */
  forget(name: string): void {
    this.#known?.delete(name);
  }

  /** The tag's id, creating the tag if the account has none of that name. */
  idOf(name: string): Promise<number> {
    const known = this.#known?.get(name);
    if (known !== undefined) return Promise.resolve(known);
    // One lookup and creation per name at a time.
    let pending = this.#pending.get(name);
    if (!pending) {
      pending = this.#resolve(name).finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    return pending;
  }

  async #resolve(name: string): Promise<number> {
    const found = await this.find(name);
    if (found !== undefined) return found;
    try {
      const { id } = await this.#api.tags.create(name);
      this.#known!.set(name, id);
      return id;
    } catch (error) {
      // Another instance created it meanwhile: the name is taken, by the tag we want.
      if (error instanceof ApiError && error.errcode === 45157) {
        const id = (await this.refresh()).get(name);
        if (id !== undefined) return id;
      }
      throw error;
    }
  }
}
