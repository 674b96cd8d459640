/** docs/performance.md: the machine, every figure with its target, the details behind them, and how each is obtained. */
import { GAPS } from "./gaps.js";
import { METHOD } from "./method.js";
import type { BenchResults, Row } from "./report.js";
import { summaryLine } from "./report.js";
import { fmt } from "./stats.js";
import type { PairStats } from "./warm.js";

function table(headers: string[], body: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...body.map(line)].join("\n");
}

function pairRow(name: string, s: PairStats | undefined): Array<string | number> {
  if (!s) return [name, "-", "-", "-", "-", "-", "-", "-", "-", "-"];
  return [name, s.requests, fmt(s.gatewayP50Ms), fmt(s.directP50Ms), fmt(s.ratioP50), fmt(s.gatewayP99Ms), fmt(s.directP99Ms), fmt(s.ratioP99), `${fmt(s.gatewayCpuUs, 0)} - ${fmt(s.directCpuUs, 0)}`, fmt(s.overheadCpuUs, 0)];
}

function details(r: BenchResults): string[] {
  const out: string[] = [];
  if (r.warm || r.logging) {
    out.push("### Warm overhead", "");
    out.push("The handler is functions/handler.ts bundled as the function deploys it (esbuild with the construct's options, `@aws-sdk/*` from node_modules), not the sources through tsx.", "");
    if (r.warm) out.push(`Token on every request: ${r.warm.token}.`, "");
    out.push(table(
      ["run", "pairs", "gateway p50 ms", "direct p50 ms", "p50 ratio", "gateway p99 ms", "direct p99 ms", "p99 ratio", "CPU us/request, gateway - direct", "gateway CPU us"],
      [pairRow("same token, logging off", r.warm?.sameToken), pairRow("fresh token per request, logging off", r.warm?.freshToken), pairRow("same token, logging and metrics on", r.logging?.sameToken)],
    ), "");
  }
  const compute = r.warm?.computeOnly;
  if (compute) {
    out.push(`The gateway's own compute, the backend answered in-process (no sockets): ${fmt(compute.cpuUs, 0)} us CPU per invocation, latency p50 ${fmt(compute.p50Ms, 3)} ms, p99 ${fmt(compute.p99Ms, 3)} ms (${compute.invocations} invocations).`);
    const logged = r.logging?.computeOnly;
    if (logged) out.push(`With logging and metrics on: ${fmt(logged.cpuUs, 0)} us, p50 ${fmt(logged.p50Ms, 3)} ms, p99 ${fmt(logged.p99Ms, 3)} ms.`);
    out.push("");
  }
  const share = r.cpuShare?.cpuShare;
  if (share) {
    out.push(`### Warm, at ${share.share} of a CPU`, "");
    const throttled = share.periods !== undefined && share.throttled !== undefined ? ` The kernel counted ${share.periods} CFS periods over the limited blocks, the quota running out in ${share.throttled} of them.` : "";
    out.push(`Applied with: ${share.method}.${throttled}`, "");
    out.push(table(["gateway invocations", "count", "p50 ms", "p99 ms", "mean ms", "CPU us/invocation"], [
      ["free", share.invocations, fmt(share.unlimited.p50Ms), fmt(share.unlimited.p99Ms), fmt(share.unlimited.meanMs), fmt(share.unlimited.cpuUs, 0)],
      [`at ${share.share} of a CPU`, share.invocations, fmt(share.limited.p50Ms), fmt(share.limited.p99Ms), fmt(share.limited.meanMs), fmt(share.limited.cpuUs, 0)],
    ]), "");
  }
  const profile = r.warm?.profile;
  if (profile) {
    out.push("### Where the gateway's CPU goes", "");
    out.push(`A sampling profile of ${profile.requests} of those invocations (main thread, ${fmt(profile.busyUsPerRequest, 0)} us busy per invocation). Self time by package or file, then by function:`, "");
    out.push(table(["where", "us per invocation", "share"], profile.byPlace.map((e) => [e.where, fmt(e.usPerRequest, 1), `${fmt(e.share * 100, 1)} %`])), "");
    out.push(table(["function", "us per invocation", "share"], profile.byFunction.map((e) => [e.where, fmt(e.usPerRequest, 1), `${fmt(e.share * 100, 1)} %`])), "");
  }
  const cold = r.coldStart;
  if (cold) {
    out.push("### Cold start", "");
    out.push(`Bundle (${cold.bundling.flags}; external: ${cold.bundling.external.join(", ") || "none"}): ${fmt(cold.bundleKb, 1)} KB, its source map ${fmt(cold.bundleMapKb, 0)} KB; with the AWS SDK bundled ${fmt(cold.bundleWithSdkKb, 1)} KB. The SSM-only module with the SDK bundled: ${fmt(cold.ssmOnlyBundledKb, 1)} KB.`);
    for (const warning of cold.bundling.warnings) out.push(`**Warning:** ${warning}.`);
    out.push("", "Largest contributors to the bundle without the SDK:", "");
    out.push(table(["package or folder", "KB"], cold.largestPackages.map((p) => [p.name, fmt(p.kb, 1)])), "");
    out.push(`Module initialisation, fresh process each, median of ${cold.init[0]?.runs.length ?? 0} (node ${cold.bundling.nodeOptions.join(" ") || "without flags"}):`, "");
    out.push(table(["module", "init ms (median)", "since process start ms", "peak RSS MB", "init ms, each run"], cold.init.map((f) => [f.name, fmt(f.initMs, 1), fmt(f.sinceStartMs, 1), fmt(f.maxRssMb, 1), f.runs.map((v) => fmt(v, 0)).join(", ")])), "");
    const p = cold.parallel;
    out.push(`Parallel fetches at init, every dependency answering after 200 ms: init ${fmt(p.delayedInitMs, 0)} ms against ${fmt(p.undelayedInitMs, 0)} ms answered at once (medians of ${p.arrivals.length} alternating runs; in sequence it would grow by 600 ms). Arrivals in the delayed runs, ms after the first request:`, "");
    out.push(table(["run", "keys (JWKS)", "policy (SSM)", "session key (Secrets Manager)"], p.arrivals.map((a, i) => [i + 1, a.keys ?? "-", a.policy ?? "-", a["session key"] ?? "-"])), "");
  }
  const scale = r.scale;
  if (scale) {
    out.push("### Scale", "");
    out.push(`Generated policies: ${Object.entries(scale.shapes).map(([shape, n]) => `${n} ${shape}`).join(", ")} (per 200 rules).`, "");
    out.push(table(["rules", "load + compile, CPU ms (median)", "wall ms (median)", "first load in process, CPU ms", "runs", "CPU ms per 100 rules"], scale.load.map((l) => [l.rules, fmt(l.medianMs), fmt(l.wallMs), fmt(l.firstMs, 1), l.runs, fmt(l.msPer100Rules)])), "");
    out.push(table(["tools", "rules", "filter, CPU ms (median)", "wall ms (median)", "runs", "tools kept", "CPU us per tool", "JSON.parse alone, CPU ms"], scale.filter.map((f) => [f.tools, f.rules, fmt(f.medianMs), fmt(f.wallMs), f.runs, f.kept, fmt(f.usPerTool, 2), fmt(f.parseOnlyMs)])), "");
  }
  if (r.lists?.lists) {
    out.push("The same lists through the Lambda handler (200 rules), CPU per request besides the backend hop:", "");
    out.push(table(["tools", "pairs", "tools kept", "gateway p50 ms", "direct p50 ms", "gateway CPU ms"], r.lists.lists.map((l) => [l.tools, l.requests, l.kept, fmt(l.gatewayP50Ms), fmt(l.directP50Ms), fmt(l.overheadCpuUs / 1000)])), "");
  }
  const sse = r.sse;
  if (sse) {
    out.push("### SSE events", "");
    out.push(`One \`tools/list\` answer as one SSE event, arriving in ${fmt(sse.chunkBytes / 1024, 0)} KiB chunks, against the same list as a JSON body, both filtered against the ${sse.rules}-rule generated policy; CPU per run (median):`, "");
    out.push(table(["MiB", "tools", "SSE bytes", "tools kept", "SSE, CPU ms", "JSON body, CPU ms", "SSE / JSON", "SSE, CPU ms per MiB", "runs"], sse.figures.map((f) => [f.mib, f.tools, f.bytes, f.kept, fmt(f.sseMs), fmt(f.jsonMs), fmt(f.ratio), fmt(f.sseMsPerMib), f.runs])), "");
  }
  const tp = r.throughput;
  if (tp) {
    out.push("### Local server throughput", "");
    out.push("The server is test/bench/local-server-entry.ts (what `mcp-sso-gateway serve` runs) bundled with the function's esbuild options, not the sources through tsx.", "");
    out.push(table(["target", "req/s", "p50 ms", "p99 ms", "requests", "failed", "gateway process CPU us/request"], [
      ["gateway", fmt(tp.gateway.rps, 0), fmt(tp.gateway.p50Ms, 1), fmt(tp.gateway.p99Ms, 1), tp.gateway.requests, tp.gateway.failed, fmt(tp.gateway.cpuUsPerRequest, 0)],
      ["direct", fmt(tp.direct.rps, 0), fmt(tp.direct.p50Ms, 1), fmt(tp.direct.p99Ms, 1), tp.direct.requests, tp.direct.failed, `${fmt(tp.direct.cpuUsPerRequest, 0)} (idle)`],
    ]), "", `${tp.connections} connections, ${tp.rounds} rounds of ${tp.seconds} s per target.`, "");
  }
  if (r.memory || r.warm) {
    out.push("### Memory", "");
    if (r.warm) out.push(`Warm benchmark process: peak RSS ${fmt(r.warm.maxRssMb, 1)} MB; after a forced GC at the end ${fmt(r.warm.rssAfterGcMb, 1)} MB RSS, ${fmt(r.warm.heapUsedAfterGcMb, 1)} MB heap used. JWKS fetched ${r.warm.jwksRequests} time(s).`, "");
    if (r.memory) {
      out.push(`Deployed bundle, node ${r.memory.heapFlags.join(" ")} (the heap limits Lambda sets for ${r.memory.configuredMb} MB):`, "");
      out.push(table(["load", "invocations", "RSS after init MB", "peak RSS MB", "heap used at end MB"], r.memory.figures.map((f) => [f.load, f.invocations, fmt(f.rssAfterInitMb, 1), fmt(f.maxRssMb, 1), fmt(f.heapUsedEndMb, 1)])), "");
    }
  }
  return out;
}

/** Which Node.js the benchmarks ran on, and whether it is the Lambda runtime's major: the machine section's line. */
function nodeLine(r: BenchResults): string {
  const m = r.machine;
  const b = m.benchNode;
  if (!b) return `- Node.js ${m.node}; ${m.os}`;
  const where = b.source === "test tools"
    ? `${b.shown}, installed by the test set-up`
    : b.source === "fallback"
      ? `the harness's own node: test/tools/node_modules/node/bin/node is not installed or does not run; \`npm install --prefix test/tools\` installs it`
      : `${b.shown}, chosen with \`--node\``;
  const lambda = b.lambdaMajor === undefined ? "." : b.matchesLambda
    ? `, the major of the function's Lambda runtime (Node.js ${b.lambdaMajor}).`
    : `. **The function's Lambda runtime is Node.js ${b.lambdaMajor}: figures from another major are not representative of it.**`;
  const seen = Object.entries(r.nodes);
  const versions = new Set(seen.map(([, version]) => version));
  const each = seen.length === 0
    ? ""
    : versions.size === 1 && versions.has(b.version)
      ? " Every figure below was measured on it (column \"node\")."
      : ` The benchmarks' processes reported: ${seen.map(([key, version]) => `${key} ${version}`).join(", ")} (column "node").`;
  return `- Node.js ${b.version} for the benchmarks (${where})${lambda}${each} The harness that forks them runs on Node.js ${m.node}.\n- OS: ${m.os}`;
}

export function renderDocument(r: BenchResults, rows: Row[]): string {
  const m = r.machine;
  const load = `${m.loadAtStart.toFixed(2)} at the start, ${m.loadAtEnd?.toFixed(2) ?? "?"} at the end`;
  return [
    "# Performance",
    "",
    "Written by `npm run bench` ([test/bench/run.ts](../test/bench/run.ts)); rerun it to refresh this page rather than editing it.",
    "",
    `Run of ${r.startedAt} (${fmt(r.seconds, 0)} s${r.quick ? ", **--quick: small counts, figures not representative**" : ""}) on:`,
    "",
    `- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.ramGb} GB (${m.freeRamGbAtStart} GB free at the start)`,
    nodeLine(r),
    `- load average (1 min): ${load}. Other work was running on the machine; timings move with it.`,
    ...(r.failures.length > 0 ? ["", `**Benchmarks that broke (figures missing): ${r.failures.join("; ")}.**`] : []),
    "",
    "## Figures",
    "",
    table(["", "figure", "value", "target", "met", "node"], rows.map((row) => [row.section, row.figure.trim(), row.value, row.target, row.met === undefined ? "-" : row.met ? "yes" : "**no**", row.node])),
    "",
    "```",
    summaryLine(r),
    "```",
    "",
    GAPS,
    "## Details",
    "",
    ...details(r),
    METHOD,
  ].join("\n");
}
