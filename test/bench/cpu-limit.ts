/**
 * Limits this process to a share of one CPU, as Lambda does with a function's memory setting, and lifts the limit
 * again, so that one process can measure the same code with and without it. Tried in order, the first that this
 * machine allows without elevated tools:
 * - cgroup v2: a child of this process's cgroup with `cpu.max` "<quota> <period>" (needs the cpu controller enabled
 *   for that cgroup's children: nothing is enabled here, as that would change the cgroup others' processes are in);
 * - cgroup v1: a child of this process's cgroup in the `cpu` hierarchy with `cpu.cfs_quota_us` / `cpu.cfs_period_us`;
 * - else a duty cycle: a small watchdog process that SIGSTOPs this one and SIGCONTs it, running `share` of every
 *   few milliseconds whatever it does. Harsher than a quota (which only stops a process that has used its share),
 *   and only as precise as the watchdog's timers: an approximation, said so in `method`.
 * The process is moved in and out with `cgroup.procs` (all its threads go); what it spawns while inside inherits the
 * limit, so it should have started its helpers (the bench backend) before.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface CpuLimit {
  kind: "cgroup v2 cpu.max" | "cgroup v1 cpu.cfs_quota_us" | "duty cycle (SIGSTOP/SIGCONT)";
  /** How the limit is applied, for the report: enough to redo it. */
  method: string;
  share: number;
  periodMs: number;
  enter(): Promise<void>;
  leave(): Promise<void>;
  /** Periods, and periods the quota was hit in, counted by the kernel so far (cgroups only). */
  throttling(): Promise<{ periods: number; throttled: number } | undefined>;
  /** Leaves if inside, and removes the cgroup. */
  close(): Promise<void>;
}

interface Mount {
  dir: string;
  v2: boolean;
  options: string[];
}

/** The cgroup file systems mounted here (/proc/self/mountinfo: the mount point is field 5, the type after " - "). */
async function cgroupMounts(): Promise<Mount[]> {
  const lines = (await readFile("/proc/self/mountinfo", "utf8")).split("\n");
  const mounts: Mount[] = [];
  for (const line of lines) {
    const [before, after] = line.split(" - ");
    const [type, , superOptions] = (after ?? "").split(" ");
    if (type !== "cgroup" && type !== "cgroup2") continue;
    mounts.push({ dir: before?.split(" ")[4] ?? "", v2: type === "cgroup2", options: (superOptions ?? "").split(",") });
  }
  return mounts;
}

/** This process's cgroup per hierarchy (/proc/self/cgroup: "id:controllers:path"; v2 is "0::path"). */
async function ownCgroups(): Promise<Array<{ controllers: string[]; path: string }>> {
  const lines = (await readFile("/proc/self/cgroup", "utf8")).trim().split("\n");
  return lines.map((line) => {
    const [, controllers = "", ...path] = line.split(":");
    return { controllers: controllers.split(",").filter(Boolean), path: path.join(":") };
  });
}

async function readStat(file: string): Promise<{ periods: number; throttled: number } | undefined> {
  try {
    const text = await readFile(file, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return { periods: field("nr_periods"), throttled: field("nr_throttled") };
  } catch {
    return undefined;
  }
}

/** A child cgroup at `dir` whose limit files are written by `limit`; undefined (and nothing left behind) if refused. */
async function cgroupLimit(kind: CpuLimit["kind"], parent: string, share: number, periodMs: number, limit: (dir: string, quotaUs: number, periodUs: number) => Promise<void>, what: string): Promise<CpuLimit | undefined> {
  const dir = join(parent, `mcp-sso-gateway-bench-${process.pid}`);
  const periodUs = Math.round(periodMs * 1000);
  const quotaUs = Math.round(share * periodUs);
  try {
    await mkdir(dir);
  } catch {
    return undefined;
  }
  try {
    await limit(dir, quotaUs, periodUs);
    // Moving in and straight out proves the move is allowed before anything is measured.
    await writeFile(join(dir, "cgroup.procs"), String(process.pid));
    await writeFile(join(parent, "cgroup.procs"), String(process.pid));
  } catch {
    await rmdir(dir).catch(() => undefined);
    return undefined;
  }
  let inside = false;
  const leave = async () => {
    await writeFile(join(parent, "cgroup.procs"), String(process.pid));
    inside = false;
  };
  return {
    kind,
    method: `${what}: this process moved into the cgroup ${dir} (quota ${quotaUs} us per ${periodUs} us period) and out again by writing its pid to cgroup.procs`,
    share,
    periodMs,
    async enter() {
      await writeFile(join(dir, "cgroup.procs"), String(process.pid));
      inside = true;
    },
    leave,
    throttling: () => readStat(join(dir, "cpu.stat")),
    async close() {
      if (inside) await leave();
      await rmdir(dir).catch(() => undefined);
    },
  };
}

/** The watchdog: stops the process `pid` for (1 - share) of every period, and lets it run when told to end. */
const DUTY_CYCLE = `
const { pid, runMs, stopMs } = JSON.parse(process.env.BENCH_DUTY_CYCLE);
const run = () => { try { process.kill(pid, "SIGCONT"); } catch { process.exit(0); } setTimeout(stop, runMs); };
const stop = () => { try { process.kill(pid, "SIGSTOP"); } catch { process.exit(0); } setTimeout(run, stopMs); };
const end = () => { try { process.kill(pid, "SIGCONT"); } catch {} process.exit(0); };
process.on("SIGTERM", end);
process.stdin.on("end", end).resume();
process.send?.("ready");
setTimeout(stop, runMs);
`;

function dutyCycle(share: number, periodMs: number, why: string): CpuLimit {
  const runMs = share * periodMs;
  const stopMs = periodMs - runMs;
  let watchdog: ChildProcess | undefined;
  const leave = async () => {
    const child = watchdog;
    watchdog = undefined;
    if (!child || child.exitCode !== null) return;
    // This code only runs while this process is running, so the watchdog is between a SIGCONT and its next SIGSTOP;
    // on SIGTERM it sends a last SIGCONT before exiting.
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
  };
  return {
    kind: "duty cycle (SIGSTOP/SIGCONT)",
    method: `${why}, so a duty cycle approximates the quota: a watchdog process SIGSTOPs this one and SIGCONTs it every ${periodMs} ms, letting it run ${runMs.toFixed(1)} ms of each (${(share * 100).toFixed(0)} % of wall time) whether it needs the CPU or waits; timers of about a millisecond's precision`,
    share,
    periodMs,
    async enter() {
      const child = spawn(process.execPath, ["-e", DUTY_CYCLE], {
        env: { ...process.env, BENCH_DUTY_CYCLE: JSON.stringify({ pid: process.pid, runMs, stopMs }) },
        // Its stdin is a pipe from this process: if this process ends, the watchdog sees the end and exits.
        stdio: ["pipe", "ignore", "inherit", "ipc"],
      });
      await new Promise<void>((ready, failed) => {
        child.once("message", () => ready());
        child.once("error", failed);
      });
      child.channel?.unref();
      watchdog = child;
    },
    leave,
    throttling: async () => undefined,
    close: leave,
  };
}

/**
 * The first limit this machine allows: `share` of a CPU over `periodMs` (100 ms, the kernel's and systemd's default
 * CFS period) for cgroups; the duty cycle uses `dutyPeriodMs`. `prefer: "duty-cycle"` skips the cgroups.
 */
export async function cpuLimit(share: number, options: { periodMs?: number; dutyPeriodMs?: number; prefer?: "cgroup" | "duty-cycle" } = {}): Promise<CpuLimit> {
  const periodMs = options.periodMs ?? 100;
  if (options.prefer !== "duty-cycle" && process.platform === "linux") {
    const [mounts, own] = await Promise.all([cgroupMounts().catch(() => []), ownCgroups().catch(() => [])]);
    const v2 = mounts.find((m) => m.v2);
    const v2Path = own.find((c) => c.controllers.length === 0)?.path;
    if (v2 && v2Path !== undefined) {
      const parent = join(v2.dir, v2Path);
      const controllers = await readFile(join(parent, "cgroup.subtree_control"), "utf8").catch(() => "");
      if (controllers.split(/\s+/).includes("cpu")) {
        const limit = await cgroupLimit("cgroup v2 cpu.max", parent, share, periodMs, (dir, quota, period) => writeFile(join(dir, "cpu.max"), `${quota} ${period}`), "cgroup v2 CPU quota (cpu.max)");
        if (limit) return limit;
      }
    }
    const v1 = mounts.find((m) => !m.v2 && m.options.includes("cpu"));
    const v1Path = own.find((c) => c.controllers.includes("cpu"))?.path;
    if (v1 && v1Path !== undefined && existsSync(join(v1.dir, v1Path, "cpu.cfs_quota_us"))) {
      const limit = await cgroupLimit("cgroup v1 cpu.cfs_quota_us", join(v1.dir, v1Path), share, periodMs, async (dir, quota, period) => {
        await writeFile(join(dir, "cpu.cfs_period_us"), String(period));
        await writeFile(join(dir, "cpu.cfs_quota_us"), String(quota));
      }, `cgroup v1 CPU quota (cpu.cfs_quota_us, the CFS bandwidth control that a v2 cpu.max sets; ${v2 ? "the cgroup v2 hierarchy here offers no cpu controller to this cgroup's children" : "no cgroup v2 hierarchy here"})`);
      if (limit) return limit;
    }
  }
  const why = options.prefer === "duty-cycle" ? "chosen over a CPU quota" : "no CPU quota could be applied here (no writable cgroup with a cpu controller)";
  return dutyCycle(share, options.dutyPeriodMs ?? 10, why);
}
