/** Small statistics and the description of the machine a run happened on. */
import { cpus, freemem, loadavg, release, totalmem, type } from "node:os";

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of the values. */
export function percentile(values: readonly number[], p: number): number {
  const ordered = sorted(values);
  if (ordered.length === 0) return Number.NaN;
  return ordered[Math.min(ordered.length - 1, Math.max(0, Math.ceil((p / 100) * ordered.length) - 1))] as number;
}

export function median(values: readonly number[]): number {
  const ordered = sorted(values);
  if (ordered.length === 0) return Number.NaN;
  const middle = Math.floor(ordered.length / 2);
  return ordered.length % 2 === 1 ? (ordered[middle] as number) : ((ordered[middle - 1] as number) + (ordered[middle] as number)) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A value with a sensible number of digits for a table. */
export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return "-";
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  if (Math.abs(value) >= 100) return value.toFixed(Math.min(digits, 1));
  return value.toFixed(digits);
}

export interface Timing {
  /** Wall time, ms. */
  wallMs: number;
  /** CPU time of the process (user + system, every thread), ms: steadier than wall time on a shared machine. */
  cpuMs: number;
}

export async function timeOnce(fn: () => unknown): Promise<Timing> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** Runs `fn` repeatedly: at least `minRuns` times, then until `budgetMs` is spent or `maxRuns` reached. */
export async function repeat(fn: () => unknown, options: { minRuns: number; maxRuns: number; budgetMs: number }): Promise<Timing[]> {
  const times: Timing[] = [];
  const started = performance.now();
  while (times.length < options.minRuns || (times.length < options.maxRuns && performance.now() - started < options.budgetMs)) {
    times.push(await timeOnce(fn));
  }
  return times;
}

/** The Node.js the benchmarks' processes run on (run.ts chooses it). */
export interface BenchNode {
  path: string;
  /** The path as shown: relative to the project when inside it. */
  shown: string;
  version: string;
  /** "test tools": test/tools/node_modules/node (the Lambda runtime's major); "fallback": that is missing, the
   * harness's own node; "chosen": given with --node. */
  source: "test tools" | "fallback" | "chosen";
  /** The major of the function's Lambda runtime, read from the construct, and whether `version` is of it. */
  lambdaMajor: number | undefined;
  matchesLambda: boolean | undefined;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  /** The harness's node (run.ts); the benchmarks run on `benchNode`. */
  node: string;
  benchNode?: BenchNode;
  os: string;
  /** 1-minute load average when the run started, and when it ended: how busy the machine was. */
  loadAtStart: number;
  loadAtEnd?: number;
  freeRamGbAtStart: number;
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    ramGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()} (${process.platform}/${process.arch})`,
    loadAtStart: loadavg()[0] ?? 0,
    freeRamGbAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? 0;
}
