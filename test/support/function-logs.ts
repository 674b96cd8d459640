/**
 * Captures what a Lambda entry point writes through Powertools: Logger lines and Metrics lines (CloudWatch embedded
 * metric format) are both JSON objects written straight to stdout or stderr, told apart by the EMF `_aws` key.
 * Anything else written there passes through untouched.
 */
import { vi } from "vitest";

export interface FunctionLogs {
  /** The function's log lines, in order. */
  lines: Record<string, unknown>[];
  /** Its metric (EMF) lines, in order. */
  metrics: Record<string, unknown>[];
  /** When a captured line was written (performance.now()). */
  writtenAt(line: object): number | undefined;
}

/** Starts capturing lines of `service`; `vi.restoreAllMocks()` stops it. */
export function captureFunctionLogs(service: string): FunctionLogs {
  const times = new WeakMap<object, number>();
  const logs: FunctionLogs = { lines: [], metrics: [], writtenAt: (line) => times.get(line) };
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    vi.spyOn(stream, "write").mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      let line: Record<string, unknown> | undefined;
      try {
        line = JSON.parse(String(chunk)) as Record<string, unknown>;
      } catch {
        // not a JSON line, so not the function's
      }
      if (line?.service !== service) return write(chunk, ...rest);
      times.set(line, performance.now());
      ("_aws" in line ? logs.metrics : logs.lines).push(line);
      return true;
    }) as typeof stream.write);
  }
  return logs;
}
