/**
 * Writing records a stage could not process to its DLQ log topic. Each DLQ record keeps the
 * original key, and a JSON value naming the stage, source log/partition/offset, the error code
 * and message, and the original value, so it can be inspected and replayed.
 */
import type { LogProducer } from '../../log/types.ts';

/** One DLQ entry before encoding. */
export interface DeadLetterInput {
  offset: number;
  key: string | null;
  value: string;
  code: string;
  message: string;
}

/** Appends `letters` to the DLQ topic `dlqLog`. Resolves when durable. */
export async function writeDeadLetters(
  producer: LogProducer,
  dlqLog: string,
  source: { stage: string; log: string; partition: number },
  letters: readonly DeadLetterInput[],
): Promise<void> {
  if (letters.length === 0) return;
  const at = Date.now();
  await producer.send(
    dlqLog,
    letters.map((l) => ({
      key: l.key,
      value: JSON.stringify({
        stage: source.stage,
        source_log: source.log,
        source_partition: source.partition,
        source_offset: l.offset,
        error: { code: l.code, message: l.message },
        dead_lettered_at: new Date(at).toISOString(),
        value: l.value,
      }),
    })),
  );
}
