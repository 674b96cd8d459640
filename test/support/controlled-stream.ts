/** A byte stream a unit test writes to, ends and fails by hand, and whose cancellation it sees. */
const encoder = new TextEncoder();

export interface ControlledStream {
  stream: ReadableStream<Uint8Array>;
  /** `cancelled` turns true when the stream's reader cancels it. */
  state: { cancelled: boolean };
  send(text: string): void;
  end(): void;
  fail(error: Error): void;
}

export function controlledStream(): ControlledStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      state.cancelled = true;
    },
  });
  return {
    stream,
    state,
    send: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    fail: (error) => controller.error(error),
  };
}
