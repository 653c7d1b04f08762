/**
 * Reads the timestamp of a UUIDv7 (RFC 9562): its first 48 bits are ms since the epoch.
 */

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** ms since the epoch carried by a UUIDv7, or null when `id` is not a UUIDv7 (any other version too). */
export function uuidV7Ms(id: string): number | null {
  if (!UUID_V7.test(id)) return null;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
