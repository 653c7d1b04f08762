/**
 * In-app mutes (`PUT /users/{id}/preferences` with `topics.<topic_id>.in_app: false`) applied to a
 * batch of user-log records before it reaches the inbox and the live streams: a muted
 * notification is neither stored nor streamed for that user, unless it is critical (the
 * fan-out's {@link CRITICAL_MARK}). Rule: sinks/channels/preferences.ts `wantsInApp`.
 *
 * Cost per batch: one `preferencesOf` call for the batch's distinct users (one round trip per
 * store shard); only records of users who muted some topic in-app are parsed. Undecodable
 * records are kept, so the inbox writer reports them (DLQ) as before.
 */
import { CRITICAL_MARK } from '../../core/types.ts';
import { RecordCursor, RecordsEncoder, type EncodedRecords } from '../../log/record-codec.ts';
import type { UserPreferences } from '../../stores/types.ts';
import { wantsInApp } from '../channels/preferences.ts';

/** Reads the preferences of many users (UserChannelStore.preferencesOf). */
export type PreferencesReader = (userIds: readonly string[]) => Promise<Map<string, UserPreferences>>;

/** Whether `prefs` mutes any topic in-app. */
function mutesSomeTopic(prefs: UserPreferences): boolean {
  for (const topic of Object.values(prefs.topics)) if (topic.in_app === false) return true;
  return false;
}

/**
 * Which records of `records` their user muted in-app.
 * @returns one byte per record (1 = muted), or null when no record is muted
 * @throws the reader's errors (HERALD_STORE_*): the batch is handed again
 */
export async function inAppMutedRecords(records: EncodedRecords, preferencesOf: PreferencesReader): Promise<Uint8Array | null> {
  const users = new Set<string>();
  const cursor = new RecordCursor(records);
  let count = 0;
  while (cursor.next()) {
    count++;
    const key = cursor.keyString();
    if (key !== null) users.add(key);
  }
  if (users.size === 0) return null;
  const prefs = await preferencesOf([...users]);
  const muting = new Map<string, UserPreferences>();
  for (const [user, p] of prefs) if (mutesSomeTopic(p)) muting.set(user, p);
  if (muting.size === 0) return null;
  let mask: Uint8Array | null = null;
  const again = new RecordCursor(records);
  for (let i = 0; again.next(); i++) {
    const user = again.keyString();
    const p = user === null ? undefined : muting.get(user);
    if (p === undefined) continue;
    const json = again.valueString();
    let topicId: unknown;
    try {
      topicId = (JSON.parse(json) as { topic_id?: unknown }).topic_id;
    } catch {
      continue; // undecodable: the inbox writer reports it
    }
    if (typeof topicId !== 'string' || wantsInApp(p, topicId, json.endsWith(CRITICAL_MARK))) continue;
    (mask ??= new Uint8Array(count))[i] = 1;
  }
  return mask;
}

/** A copy of `records` without those whose `mask` byte is 1 (entries copied as they are: offsets kept). */
export function withoutRecords(records: EncodedRecords, mask: Uint8Array): EncodedRecords {
  const out = new RecordsEncoder(records.byteLength);
  const cursor = new RecordCursor(records);
  for (let i = 0; cursor.next(); i++) {
    if (mask[i] !== 1) out.addEntry(records.subarray(cursor.position, cursor.position + cursor.size));
  }
  return out.finish();
}

/** The JSON clients see for a user-log value: without the fan-out's critical mark. */
export function clientJson(json: string): string {
  return json.endsWith(CRITICAL_MARK) ? `${json.slice(0, -CRITICAL_MARK.length)}}` : json;
}
