/** The figures against their targets: the table printed after a run, and the one-line summary that ends it. */
import { GATEWAY_INIT, SSM_ONLY_INIT, type ColdStartResult } from "./cold-start.js";
import type { MemoryResult } from "./memory.js";
import type { ScaleResult } from "./scale.js";
import type { SseResult } from "./sse.js";
import { fmt, type Machine } from "./stats.js";
import type { ThroughputResult } from "./throughput.js";
import type { WarmResult } from "./warm.js";

export { renderDocument } from "./document.js";

export interface BenchResults {
  machine: Machine;
  startedAt: string;
  seconds: number;
  quick: boolean;
  warm?: WarmResult;
  logging?: WarmResult;
  lists?: WarmResult;
  /** The warm echo calls free and at a share of one CPU. */
  cpuShare?: WarmResult;
  coldStart?: ColdStartResult;
  scale?: ScaleResult;
  sse?: SseResult;
  throughput?: ThroughputResult;
  memory?: MemoryResult;
  /** Benchmarks that broke (their figures are missing). */
  failures: string[];
  /** The Node.js version (process.version) of the process each result came from. */
  nodes: Partial<Record<ResultKey, string>>;
}

/** The results, each from a process of its own. */
export type ResultKey = "warm" | "logging" | "lists" | "cpuShare" | "coldStart" | "scale" | "sse" | "throughput" | "memory";

export interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  /** undefined: reported, no target. */
  met: boolean | undefined;
  /** The Node.js version the figure was measured on. */
  node: string;
}

export const TARGETS = {
  warmRatioP50: 1.15,
  /** Gateway CPU per request besides the backend hop (loopback backend, logging off). */
  cpuOverheadUs: 100,
  /** Gateway CPU per invocation with the backend answered in-process: logging off, and on as deployed. */
  computeCpuUs: 150,
  loggedComputeCpuUs: 200,
  bundleKb: 250,
  initRatio: 1.3,
  /** Filtering a tools/list against 200 rules: 1,000 tools, and 10,000. */
  filterMs: 2,
  filter10kMs: 20,
  loadMs: 20,
  /** Growing "linearly or better": the cost per tool (per rule) at the largest size at most this times the smallest's. */
  linearSlack: 1.5,
  /** One 8 MiB list as an SSE event, against the same list as a JSON body: CPU at most this many times. */
  sseRatio: 3,
  memoryMb: 256,
  /** The deployed function's peak RSS, to fit 256 MB with room: at most three quarters of it. */
  deployedMemoryMb: 192,
  /** Requests per second at concurrency 32 through the local server, against the backend alone: at least this. */
  throughputRatio: 0.8,
};

export function initRatio(cold: ColdStartResult | undefined): number | undefined {
  return cold?.initRatio;
}

export function filterFigure(scale: ScaleResult | undefined, tools: number, rules: number) {
  return scale?.filter.find((f) => f.tools === tools && f.rules === rules);
}

export function sseFigure(sse: SseResult | undefined, mib: number) {
  return sse?.figures.find((f) => f.mib === mib);
}

export function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  // Each figure comes from one benchmark's process (`from`); a figure combining two names both when they differ.
  let from: ResultKey[] = [];
  const node = () => [...new Set(from.map((key) => r.nodes[key] ?? "?"))].join(" / ");
  const add = (section: string, figure: string, value: string, target = "reported", met?: boolean) => out.push({ section, figure, value, target, met, node: node() });
  from = ["warm"];
  const calibration = r.warm?.calibration;
  if (calibration) {
    add("machine", "one RS256 verification (node:crypto, 2048-bit)", `${fmt(calibration.rs256VerifyUs, 1)} us`, "reported (reference machines: about 18 us)");
  }
  const same = r.warm?.sameToken;
  if (same) {
    add("warm", "p50, gateway / direct (tools/call echo)", `${fmt(same.ratioP50)} (${fmt(same.gatewayP50Ms)} vs ${fmt(same.directP50Ms)} ms)`, `<= ${TARGETS.warmRatioP50}`, same.ratioP50 <= TARGETS.warmRatioP50);
    add("warm", "p99, gateway / direct", `${fmt(same.ratioP99)} (${fmt(same.gatewayP99Ms)} vs ${fmt(same.directP99Ms)} ms)`);
    add("warm", "gateway CPU per request besides the backend hop", `${fmt(same.overheadCpuUs, 0)} us (${fmt(same.gatewayCpuUs, 0)} - ${fmt(same.directCpuUs, 0)})`, `<= ${TARGETS.cpuOverheadUs} us`, same.overheadCpuUs <= TARGETS.cpuOverheadUs);
  }
  const compute = r.warm?.computeOnly;
  if (compute) add("warm", "  gateway CPU per invocation, backend answered in-process", `${fmt(compute.cpuUs, 0)} us`, `<= ${TARGETS.computeCpuUs} us`, compute.cpuUs <= TARGETS.computeCpuUs);
  if (compute?.floorNodeCpuUs !== undefined && compute.floorWebCpuUs !== undefined) {
    const above = (floor: number) => `${fmt(compute.cpuUs / floor)}x`;
    add(
      "warm",
      "    floor: the unavoidable work alone (test/bench/floor.ts), Node's parts / through web Request and Response",
      `${fmt(compute.floorNodeCpuUs, 0)} us / ${fmt(compute.floorWebCpuUs, 0)} us (gateway ${above(compute.floorNodeCpuUs)} / ${above(compute.floorWebCpuUs)})`,
    );
  }
  const fresh = r.warm?.freshToken;
  if (fresh) add("warm", "  same, a fresh token per request", `${fmt(fresh.overheadCpuUs, 0)} us; p50 ratio ${fmt(fresh.ratioP50)}`);
  const logged = r.logging?.sameToken;
  from = ["logging", "warm"];
  if (logged) add("warm", "  same, logging and metrics on (as deployed)", `${fmt(logged.overheadCpuUs, 0)} us; p50 ratio ${fmt(logged.ratioP50)}`);
  const [on, off] = [r.logging?.computeOnly?.cpuUs, compute?.cpuUs];
  if (on !== undefined) {
    const than = off !== undefined ? ` (${fmt(Math.abs(on - off), 0)} us ${on >= off ? "more" : "less"} than logging off)` : "";
    add("warm", "  gateway CPU per invocation, in-process backend, logging and metrics on", `${fmt(on, 0)} us${than}`, `<= ${TARGETS.loggedComputeCpuUs} us`, on <= TARGETS.loggedComputeCpuUs);
  }
  from = ["cpuShare"];
  const share = r.cpuShare?.cpuShare;
  if (share) {
    const how = share.kind === "duty cycle (SIGSTOP/SIGCONT)"
      ? `approximated, no quota applied: a watchdog process SIGSTOPs and SIGCONTs it, running ${fmt(share.share * share.periodMs, 1)} ms of every ${share.periodMs} ms`
      : `${share.kind} quota, ${fmt(share.share * share.periodMs, 0)} ms per ${share.periodMs} ms period`;
    const signed = (ms: number, digits: number) => `${ms >= 0 ? "+" : "-"}${fmt(Math.abs(ms), digits)}`;
    add("warm", `at ${share.share} of a CPU: added p50 latency`, `${signed(share.addedP50Ms, 2)} ms (${fmt(share.limited.p50Ms)} vs ${fmt(share.unlimited.p50Ms)} ms; p99 ${signed(share.addedP99Ms, 1)} ms; ${how})`);
  }
  from = ["coldStart"];
  const cold = r.coldStart;
  if (cold) {
    add("cold", "bundle without the AWS SDK (as deployed)", `${fmt(cold.bundleKb, 0)} KB`, `<= ${TARGETS.bundleKb} KB`, cold.bundleKb <= TARGETS.bundleKb);
    add("cold", "bundle with the AWS SDK", `${fmt(cold.bundleWithSdkKb, 0)} KB (SSM-only module: ${fmt(cold.ssmOnlyBundledKb, 0)} KB)`);
    const byName = (name: string) => cold.init.find((f) => f.name === name);
    const gateway = byName(GATEWAY_INIT);
    const ssm = byName(SSM_ONLY_INIT);
    const empty = byName("empty module");
    const ratio = initRatio(cold);
    if (gateway && ssm && empty && ratio !== undefined) {
      add("cold", "init, gateway / SSM-only module (SDK external)", `${fmt(ratio)} (medians ${fmt(gateway.initMs, 0)} vs ${fmt(ssm.initMs, 0)} ms; empty ${fmt(empty.initMs, 1)} ms)`, `<= ${TARGETS.initRatio}`, ratio <= TARGETS.initRatio);
    }
    const gatewaySdk = byName("gateway (SDK bundled)");
    const ssmSdk = byName("SSM-only module (SDK bundled)");
    if (gatewaySdk && ssmSdk) add("cold", "  same, SDK bundled into both", `${fmt(gatewaySdk.initMs / ssmSdk.initMs)} (${fmt(gatewaySdk.initMs, 0)} vs ${fmt(ssmSdk.initMs, 0)} ms)`);
    const p = cold.parallel;
    add("cold", "keys, policy, session key fetched in parallel", `${p.parallel ? "yes" : "NO"} (each delayed 200 ms: init +${fmt(p.delayedInitMs - p.undelayedInitMs, 0)} ms)`, "yes", p.parallel);
  }
  from = ["scale"];
  const scale = r.scale;
  if (scale) {
    const f1000 = filterFigure(scale, 1_000, 200);
    if (f1000) add("scale", "filter a 1,000-tool tools/list, 200 rules", `${fmt(f1000.medianMs)} ms (JSON.parse alone ${fmt(f1000.parseOnlyMs)})`, `<= ${TARGETS.filterMs} ms`, f1000.medianMs <= TARGETS.filterMs);
    const f10k = filterFigure(scale, 10_000, 200);
    if (f10k) add("scale", "  filter a 10,000-tool tools/list, 200 rules", `${fmt(f10k.medianMs)} ms (JSON.parse alone ${fmt(f10k.parseOnlyMs)})`, `<= ${TARGETS.filter10kMs} ms`, f10k.medianMs <= TARGETS.filter10kMs);
    const sizes = [100, 1_000, 10_000].map((tools) => filterFigure(scale, tools, 200));
    if (sizes.every(Boolean)) {
      const [small, , large] = sizes as [NonNullable<(typeof sizes)[0]>, unknown, NonNullable<(typeof sizes)[0]>];
      add("scale", "  100 / 1,000 / 10,000 tools: us per tool", sizes.map((f) => fmt(f?.usPerTool ?? NaN, 1)).join(" / "), "linear or better", large.usPerTool <= TARGETS.linearSlack * small.usPerTool);
    }
    const load200 = scale.load.find((l) => l.rules === 200);
    if (load200) add("scale", "load and compile 200 rules", `${fmt(load200.medianMs)} ms (first in process ${fmt(load200.firstMs, 1)})`, `<= ${TARGETS.loadMs} ms`, load200.medianMs <= TARGETS.loadMs);
    const [l20, l200, l2000] = [20, 200, 2_000].map((n) => scale.load.find((l) => l.rules === n));
    if (l20 && l200 && l2000) {
      add("scale", "  20 / 200 / 2,000 rules: ms per 100 rules", [l20, l200, l2000].map((l) => fmt(l.msPer100Rules)).join(" / "), "linear or better", l2000.msPer100Rules <= TARGETS.linearSlack * l200.msPer100Rules);
    }
  }
  from = ["lists"];
  const list = r.lists?.lists?.find((l) => l.tools === 1_000);
  if (list) add("scale", "  tools/list of 1,000 tools through the gateway: CPU", `${fmt(list.overheadCpuUs / 1000)} ms besides the backend hop`);
  from = ["sse"];
  const sse8 = sseFigure(r.sse, 8);
  if (sse8) add("sse", "one 8 MiB tools/list as an SSE event, CPU against a JSON body", `${fmt(sse8.ratio)} (${fmt(sse8.sseMs, 0)} vs ${fmt(sse8.jsonMs, 0)} ms)`, `<= ${TARGETS.sseRatio}`, sse8.ratio <= TARGETS.sseRatio);
  const sseSizes = r.sse?.figures ?? [];
  const [smallest, largest] = [sseSizes[0], sseSizes[sseSizes.length - 1]];
  if (smallest && largest && sseSizes.length > 1) {
    add("sse", `  ${sseSizes.map((f) => f.mib).join(" / ")} MiB events: CPU ms per MiB`, sseSizes.map((f) => fmt(f.sseMsPerMib, 1)).join(" / "), "linear or better", largest.sseMsPerMib <= TARGETS.linearSlack * smallest.sseMsPerMib);
  }
  from = ["throughput"];
  const tp = r.throughput;
  if (tp) add("server", `throughput at concurrency ${tp.connections}, gateway / direct`, `${fmt(tp.ratio)} (${fmt(tp.gateway.rps, 0)} vs ${fmt(tp.direct.rps, 0)} req/s; gateway ${fmt(tp.gateway.cpuUsPerRequest, 0)} us CPU/request)`, `>= ${TARGETS.throughputRatio}`, tp.ratio >= TARGETS.throughputRatio);
  from = ["warm"];
  if (r.warm?.maxRssMb !== undefined) {
    add("memory", "peak RSS, warm benchmark process", `${fmt(r.warm.maxRssMb, 0)} MB`, `< ${TARGETS.memoryMb} MB`, r.warm.maxRssMb < TARGETS.memoryMb);
  }
  from = ["memory"];
  const peak = r.memory ? Math.max(...r.memory.figures.map((f) => f.maxRssMb)) : undefined;
  if (r.memory && peak !== undefined) {
    add("memory", `peak RSS, deployed bundle, ${r.memory.configuredMb} MB heap limits`, `${fmt(peak, 0)} MB`, `<= ${TARGETS.deployedMemoryMb} MB`, peak <= TARGETS.deployedMemoryMb);
  }
  return out;
}

export function formatTable(table: Row[]): string {
  const headers = ["", "figure", "value", "target", "met", "node"];
  const cells = table.map((row) => [row.section, row.figure, row.value, row.target, row.met === undefined ? "-" : row.met ? "yes" : "NO", row.node]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export function summaryLine(r: BenchResults): string {
  const value = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits));
  return [
    "bench:",
    `warm_ratio_p50=${value(r.warm?.sameToken?.ratioP50, 2)}`,
    `init_ratio=${value(initRatio(r.coldStart), 2)}`,
    `bundle_kb=${value(r.coldStart?.bundleKb, 0)}`,
    `list_1000x200_ms=${value(filterFigure(r.scale, 1_000, 200)?.medianMs, 2)}`,
    `sse_8mib_ratio=${value(sseFigure(r.sse, 8)?.ratio, 2)}`,
    `cpu_us=${value(r.warm?.computeOnly?.cpuUs, 0)}`,
    `throughput_ratio=${value(r.throughput?.ratio, 2)}`,
  ].join(" ");
}
