/**
 * Records a stage could not process, handled by the stage's error policy (Kafka Streams'
 * exception handlers): `fail` stops the batch, `dead-letter` writes them to the DLQ log topic,
 * `continue` logs and skips them. Each DLQ record keeps the original key, and a JSON value naming
 * the stage, source log/partition/offset, the error code and message, and the original value, so
 * it can be inspected and replayed.
 */
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import type { BatchOutput } from '../../log/types.ts';
import type { CompiledStage } from '../../topology/types.ts';

const deadLettered = counter('herald_stage_dead_letters_total', 'Records a stage could not process (written to the DLQ or skipped, per its error policy).', ['stage']);

/** One DLQ entry before encoding. */
export interface DeadLetterInput {
  offset: number;
  key: string | null;
  value: string;
  code: string;
  message: string;
}

/** Appends `letters` to the DLQ topic `dlqLog` as part of the batch's output. */
export async function writeDeadLetters(
  output: Pick<BatchOutput, 'append'>,
  dlqLog: string,
  source: { stage: string; log: string; partition: number },
  letters: readonly DeadLetterInput[],
): Promise<void> {
  if (letters.length === 0) return;
  const at = Date.now();
  await output.append(
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

/**
 * Throws when the stage's policy is `fail` and there are rejected records. Call it before the
 * batch appends anything, so a batch that will be handed again leaves nothing behind.
 * @throws Error naming the first rejected record
 */
export function failOnRejected(stage: CompiledStage, letters: readonly DeadLetterInput[]): void {
  if (letters.length === 0 || stage.errorPolicy !== 'fail') return;
  const first = letters[0]!;
  throw new Error(`stage ${stage.name} (error_policy fail): record at offset ${first.offset} failed: ${first.code} ${first.message}`);
}

/**
 * Applies the `dead-letter` or `continue` policy to rejected records of one source partition
 * (call {@link failOnRejected} first) and counts them. DLQ records go into the batch's output.
 * @param sourceLog the log the records were read from, when not the stage's source log (a
 *   channel stage's retry log)
 */
export async function settleRejected(
  output: Pick<BatchOutput, 'append'>,
  stage: CompiledStage,
  partition: number,
  letters: readonly DeadLetterInput[],
  log: Logger,
  sourceLog: string = stage.source.log,
): Promise<void> {
  if (letters.length === 0) return;
  if (stage.errorPolicy === 'dead-letter' && stage.deadLetterLog) {
    await writeDeadLetters(output, stage.deadLetterLog, { stage: stage.name, log: sourceLog, partition }, letters);
  } else {
    log.warn({ count: letters.length, first: letters[0] }, `records skipped (error_policy ${stage.errorPolicy})`);
  }
  deadLettered.inc({ stage: stage.name }, letters.length);
}
