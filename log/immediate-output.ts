/**
 * The {@link BatchOutput} of an at-least-once consumer: appends go to a producer at once; after
 * the handler resolved, `settle()` waits for them and runs the `onCommitted` steps, and only then
 * does the consumer commit the batch's offset. Shared by the embedded log and Kafka consumers.
 */
import type { BatchOutput, LogProducer } from './types.ts';

/** An output plus the step that completes it. */
export interface ImmediateOutput {
  output: BatchOutput;
  /** Waits for every append, then runs the onCommitted steps in order. Rejects with the first failure. */
  settle(): Promise<void>;
}

/** Creates the output of one batch, appending through `producer`. */
export function createImmediateOutput(producer: LogProducer): ImmediateOutput {
  const appends: Promise<void>[] = [];
  const committed: (() => Promise<void> | void)[] = [];
  const track = (p: Promise<void>): Promise<void> => {
    appends.push(p);
    p.catch(() => {}); // awaited in settle(); a handler that throws first must not leave it unhandled
    return p;
  };
  return {
    output: {
      append: (topic, records) => track(producer.send(topic, records).then(() => {})),
      appendEncoded: (topic, records) => track(producer.sendEncoded(topic, records)),
      onCommitted: (fn) => void committed.push(fn),
    },
    async settle() {
      await Promise.all(appends);
      for (const fn of committed) await fn();
    },
  };
}
