/**
 * Runs async steps one at a time, in submission order: the engine handles one broker event (and its store commit)
 * before the next, so state changes never interleave. `idle()` resolves when everything queued so far is done; a
 * step that throws is reported to `onError` and the queue goes on. `onDrain` runs at the end of the last step queued,
 * before `idle()` resolves (the engine writes its group commit there).
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;

  constructor(
    private readonly onError: (e: unknown) => void,
    private readonly onDrain: (() => Promise<void>) | null = null,
  ) {}

  push(step: () => Promise<void> | void): Promise<void> {
    this.depth++;
    const run = this.tail.then(async () => {
      try {
        await step();
      } catch (e) {
        this.onError(e);
      } finally {
        if (this.depth === 1 && this.onDrain !== null) {
          try {
            await this.onDrain();
          } catch (e) {
            this.onError(e);
          }
        }
        this.depth--;
      }
    });
    this.tail = run;
    return run;
  }

  get size(): number {
    return this.depth;
  }

  /** Resolves once the queue is empty, including steps queued by steps. */
  async idle(): Promise<void> {
    while (this.depth > 0) await this.tail;
  }
}
