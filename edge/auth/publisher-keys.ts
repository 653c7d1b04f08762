/**
 * Publisher API keys (HERALD_PUBLISHER_KEYS): a key is accepted when it equals one of the
 * configured keys. Keys are compared as SHA-256 digests with timingSafeEqual, so neither the
 * content nor the length of a configured key leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A set of accepted publisher keys. */
export class PublisherKeys {
  readonly #digests: Buffer[];

  /** @param keys the configured keys (already validated by core/config.ts) */
  constructor(keys: readonly string[]) {
    this.#digests = keys.map((k) => createHash('sha256').update(k).digest());
  }

  /** Number of configured keys (0 = auth off). */
  get size(): number {
    return this.#digests.length;
  }

  /** Whether `key` is one of the configured keys (checks every key: constant work per call). */
  accepts(key: string): boolean {
    const digest = createHash('sha256').update(key).digest();
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(d, digest) || ok;
    return ok;
  }
}
