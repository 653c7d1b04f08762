/**
 * Checks what users received against what was accepted: per user, the expected notifications are
 * the accepted ids of the topics the user subscribed to (before any publish). For the SSE stream
 * (all connections of the user, in arrival order) and for GET /notifications (all pages) it counts
 * missing ids, duplicates, unexpected ids (not accepted, or of another topic), payloads that do
 * not match what was published, and per-topic order violations.
 *
 * Order: per user and topic, the received ids of that topic (first occurrences) must follow the
 * topic's publish order. A violation is one id that arrives after an id published later than it.
 */

/** One accepted publish. */
export interface AcceptedPublish {
  id: string;
  topic: string;
  /** The message that was published (compared with what is received). */
  message: unknown;
}

/** A received notification (SSE event or GET /notifications item). */
export interface ReceivedNotification {
  id: string;
  topic_id?: string;
  message?: unknown;
}

/** What the checker compares. */
export interface DeliveryCheckInput {
  /** Distinct publishes sent (one per Idempotency-Key). */
  published: number;
  /** Publishes sent again with the same key and body (deliberate retries, not fail-overs). */
  retried: number;
  /** Requests retried on another edge after a failure (connection reset, 5xx). */
  failovers: number;
  /** Accepted publishes per topic, in publish order of that topic. */
  topicOrder: ReadonlyMap<string, readonly AcceptedPublish[]>;
  /** user → subscribed topics. */
  subscriptions: ReadonlyMap<string, readonly string[]>;
  /** user → SSE notifications in arrival order, across reconnects. */
  sse: ReadonlyMap<string, readonly ReceivedNotification[]>;
  /** user → GET /notifications items, all pages in order. */
  fetched: ReadonlyMap<string, readonly ReceivedNotification[]>;
  /** SSE reconnects over all users. */
  reconnects: number;
}

/** Counts of one channel (SSE or fetch). */
export interface ChannelCounts {
  received: number;
  missing: number;
  duplicates: number;
  unexpected: number;
  payloadMismatches: number;
  orderViolations: number;
}

/** Result of {@link checkDeliveries}. */
export interface DeliveryReport {
  published: number;
  retried: number;
  failovers: number;
  acceptedIds: number;
  /** Accepted ids answered for more than one publish (two keys → one id). */
  idCollisions: number;
  expectedDeliveries: number;
  sse: ChannelCounts;
  fetch: ChannelCounts;
  reconnects: number;
  /** A few concrete problems, for the failure message. */
  samples: string[];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkChannel(
  name: string,
  input: DeliveryCheckInput,
  received: ReadonlyMap<string, readonly ReceivedNotification[]>,
  byId: ReadonlyMap<string, { pub: AcceptedPublish; index: number }>,
  samples: string[],
): ChannelCounts {
  const c: ChannelCounts = { received: 0, missing: 0, duplicates: 0, unexpected: 0, payloadMismatches: 0, orderViolations: 0 };
  const sample = (s: string) => samples.length < 30 && samples.push(`${name}: ${s}`);
  for (const [user, topics] of input.subscriptions) {
    const topicSet = new Set(topics);
    const got = received.get(user) ?? [];
    c.received += got.length;
    const seen = new Set<string>();
    /** Highest publish index seen so far per topic. */
    const highest = new Map<string, number>();
    for (const n of got) {
      if (seen.has(n.id)) {
        c.duplicates++;
        sample(`user ${user} got ${n.id} twice`);
        continue;
      }
      seen.add(n.id);
      const known = byId.get(n.id);
      if (known === undefined || !topicSet.has(known.pub.topic)) {
        c.unexpected++;
        sample(`user ${user} got ${n.id} (${known ? `topic ${known.pub.topic}, not subscribed` : 'never accepted'})`);
        continue;
      }
      if ((n.topic_id !== undefined && n.topic_id !== known.pub.topic) || (n.message !== undefined && !sameJson(n.message, known.pub.message))) {
        c.payloadMismatches++;
        sample(`user ${user} got ${n.id} with topic ${n.topic_id} / message ${JSON.stringify(n.message)}; published ${known.pub.topic} / ${JSON.stringify(known.pub.message)}`);
      }
      const prev = highest.get(known.pub.topic) ?? -1;
      if (known.index < prev) {
        c.orderViolations++;
        sample(`user ${user} topic ${known.pub.topic}: publish #${known.index} (${n.id}) arrived after publish #${prev}`);
      } else {
        highest.set(known.pub.topic, known.index);
      }
    }
    for (const topic of topics) {
      for (const p of input.topicOrder.get(topic) ?? []) {
        if (!seen.has(p.id)) {
          c.missing++;
          sample(`user ${user} never got ${p.id} (topic ${topic})`);
        }
      }
    }
  }
  return c;
}

/** Compares deliveries with accepted publishes; see the module comment. */
export function checkDeliveries(input: DeliveryCheckInput): DeliveryReport {
  const samples: string[] = [];
  const byId = new Map<string, { pub: AcceptedPublish; index: number }>();
  let idCollisions = 0;
  for (const pubs of input.topicOrder.values()) {
    pubs.forEach((pub, index) => {
      if (byId.has(pub.id)) {
        idCollisions++;
        if (samples.length < 30) samples.push(`id ${pub.id} answered for two publishes`);
      } else byId.set(pub.id, { pub, index });
    });
  }
  let expectedDeliveries = 0;
  for (const topics of input.subscriptions.values()) for (const t of topics) expectedDeliveries += input.topicOrder.get(t)?.length ?? 0;
  return {
    published: input.published,
    retried: input.retried,
    failovers: input.failovers,
    acceptedIds: byId.size,
    idCollisions,
    expectedDeliveries,
    sse: checkChannel('sse', input, input.sse, byId, samples),
    fetch: checkChannel('fetch', input, input.fetched, byId, samples),
    reconnects: input.reconnects,
    samples,
  };
}

/** The report as a compact table (one line per measure, SSE and fetch side by side). */
export function formatReport(r: DeliveryReport, extra: Record<string, string | number> = {}): string {
  const rows: [string, string | number, string | number][] = [
    ['published (distinct keys)', r.published, ''],
    ['retried (same key + body)', r.retried, ''],
    ['fail-over retries', r.failovers, ''],
    ['accepted ids', r.acceptedIds, ''],
    ['id collisions', r.idCollisions, ''],
    ['expected deliveries', r.expectedDeliveries, ''],
    ['received', r.sse.received, r.fetch.received],
    ['missing', r.sse.missing, r.fetch.missing],
    ['duplicates', r.sse.duplicates, r.fetch.duplicates],
    ['unexpected', r.sse.unexpected, r.fetch.unexpected],
    ['payload mismatches', r.sse.payloadMismatches, r.fetch.payloadMismatches],
    ['order violations', r.sse.orderViolations, r.fetch.orderViolations],
    ['SSE reconnects', r.reconnects, ''],
    ...Object.entries(extra).map(([k, v]): [string, string | number, string] => [k, v, '']),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [`${''.padEnd(w)}  ${'SSE / total'.padStart(12)}  ${'fetch'.padStart(8)}`];
  for (const [k, a, b] of rows) lines.push(`${k.padEnd(w)}  ${String(a).padStart(12)}  ${String(b).padStart(8)}`);
  return lines.join('\n');
}

/** The counts that must all be zero. */
export function problemCounts(r: DeliveryReport): Record<string, number> {
  return {
    idCollisions: r.idCollisions,
    sseMissing: r.sse.missing,
    sseDuplicates: r.sse.duplicates,
    sseUnexpected: r.sse.unexpected,
    ssePayloadMismatches: r.sse.payloadMismatches,
    sseOrderViolations: r.sse.orderViolations,
    fetchMissing: r.fetch.missing,
    fetchDuplicates: r.fetch.duplicates,
    fetchUnexpected: r.fetch.unexpected,
    fetchPayloadMismatches: r.fetch.payloadMismatches,
    fetchOrderViolations: r.fetch.orderViolations,
  };
}
