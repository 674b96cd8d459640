/**
 * The warm latency at a Lambda's share of a CPU: the same gateway invocations measured in blocks, alternately with
 * this process free and limited to `share` of one CPU (cpu-limit.ts), so that a slow spell of the machine weighs on
 * both alike. The figure is the p50 the limit adds; p99 and the mean are kept, since a CFS quota mostly shows in the
 * tail (a process that has used its quota waits out the rest of the period).
 */
import { cpuLimit, type CpuLimit } from "./cpu-limit.js";
import { mean, percentile } from "./stats.js";

export interface CpuShareOptions {
  share: number;
  /** Blocks of each kind, and invocations per block. */
  rounds: number;
  perRound: number;
  /** Force the duty-cycle approximation (to check it on a machine that allows a quota). */
  prefer?: "cgroup" | "duty-cycle";
}

export interface CpuShareStats {
  share: number;
  kind: CpuLimit["kind"];
  method: string;
  periodMs: number;
  /** Invocations measured on each side. */
  invocations: number;
  unlimited: { p50Ms: number; p99Ms: number; meanMs: number; cpuUs: number };
  limited: { p50Ms: number; p99Ms: number; meanMs: number; cpuUs: number };
  addedP50Ms: number;
  addedP99Ms: number;
  /** Kernel's count over the limited blocks (cgroups only): CFS periods, and periods the quota ran out in. */
  periods?: number;
  throttled?: number;
}

/** One invocation: its wall time and the CPU this process used for it. */
export type Invoke = (i: number) => Promise<{ ms: number; cpuUs: number }>;

function side(samples: Array<{ ms: number; cpuUs: number }>) {
  const ms = samples.map((s) => s.ms);
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), meanMs: mean(ms), cpuUs: mean(samples.map((s) => s.cpuUs)) };
}

export async function measureCpuShare(invoke: Invoke, options: CpuShareOptions): Promise<CpuShareStats> {
  const limit = await cpuLimit(options.share, { prefer: options.prefer });
  const free: Array<{ ms: number; cpuUs: number }> = [];
  const limited: typeof free = [];
  let n = 0;
  const block = async (into: typeof free) => {
    for (let i = 0; i < options.perRound; i++) into.push(await invoke(n++));
  };
  try {
    const before = await limit.throttling();
    for (let round = 0; round < options.rounds; round++) {
      // The order swapped every other round, so neither side always follows the other.
      for (const isLimited of round % 2 === 0 ? [false, true] : [true, false]) {
        if (isLimited) {
          await limit.enter();
          try {
            await block(limited);
          } finally {
            await limit.leave();
          }
        } else {
          await block(free);
        }
      }
    }
    const after = await limit.throttling();
    const [u, l] = [side(free), side(limited)];
    return {
      share: options.share,
      kind: limit.kind,
      method: limit.method,
      periodMs: limit.periodMs,
      invocations: limited.length,
      unlimited: u,
      limited: l,
      addedP50Ms: l.p50Ms - u.p50Ms,
      addedP99Ms: l.p99Ms - u.p99Ms,
      ...(before && after ? { periods: after.periods - before.periods, throttled: after.throttled - before.throttled } : {}),
    };
  } finally {
    await limit.close();
  }
}
