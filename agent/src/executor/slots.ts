/** A counting semaphore: at most `size` jobs talk to the backend at once, the rest wait in order. */
export class Slots {
  readonly size: number;
  #used = 0;
  #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.size = size;
  }

  get used(): number {
    return this.#used;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async take(): Promise<void> {
    if (this.#used < this.size) {
      this.#used++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) {
      next(); // the slot passes to the next job as is
      return;
    }
    this.#used--;
  }
}
