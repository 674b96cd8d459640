/**
 * A value loaded from somewhere slow or fallible (SSM, Secrets Manager), kept for a while, reloaded on the first use
 * after that (one load at a time), and kept when a reload fails: the last good value stays in force. Until a first
 * load succeeds, `get()` answers undefined and the source is retried at most once per `retryWithoutValueMs`.
 */
export interface RefreshingValueOptions<T> {
  /** Milliseconds a loaded value is used before it is loaded again; 0 loads on every use. */
  maxAgeMs: number;
  /** While no value was ever loaded, the least time between two attempts, in milliseconds. Default 1000. */
  retryWithoutValueMs?: number;
  /** Called after each failed load, with whether a last good value is still in force. */
  onError: (error: unknown, keepingLastGood: boolean) => void;
  /** Clock in milliseconds. */
  now?: () => number;
}

export class RefreshingValue<T> {
  private value: T | undefined;
  private loaded = false;
  private nextLoadAt = 0;
  private loading: Promise<void> | undefined;
  private readonly now: () => number;

  /** @param load fetches a fresh value; it receives the value in force, so it can keep it when nothing changed. */
  constructor(
    private readonly load: (current: T | undefined) => Promise<T>,
    private readonly options: RefreshingValueOptions<T>,
  ) {
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<T | undefined> {
    if (this.now() >= this.nextLoadAt) {
      this.loading ??= this.reload().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.value;
  }

  private async reload(): Promise<void> {
    try {
      this.value = await this.load(this.value);
      this.loaded = true;
      this.nextLoadAt = this.now() + this.options.maxAgeMs;
    } catch (err) {
      const retry = this.loaded ? this.options.maxAgeMs : Math.min(this.options.retryWithoutValueMs ?? 1_000, this.options.maxAgeMs);
      this.nextLoadAt = this.now() + retry;
      this.options.onError(err, this.loaded);
    }
  }
}
