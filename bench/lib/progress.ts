/** A one-line progress bar on stderr (redrawn in place on a TTY, every 10% otherwise). */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #started = performance.now();
  #lastDecile = -1;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = Math.max(1, total);
  }

  /** Draws `done` of total, with a rate per second of `unit`. */
  update(done: number, unit: string): void {
    const fraction = Math.min(1, done / this.#total);
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const line = `${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-US')}/${this.#total.toLocaleString('en-US')} ${unit}, ${rate.toLocaleString('en-US')}/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.#lastDecile) {
        this.#lastDecile = decile;
        process.stderr.write(`${line}\n`);
      }
    }
  }

  /** Ends the bar's line. */
  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
