/**
 * Scale, in-process with the real policy code and nothing else:
 * - load + compile: a generated policy file of 20 / 200 / 2,000 rules read, parsed and compiled exactly as the
 *   gateway does it (PolicyStore over the file source, functions/policy/), timed from the store's creation to the
 *   compiled policy. The first load in the process is reported apart (it pays for lazy initialisation and cold JIT,
 *   as a cold start does); the figure is the median of the loads after it.
 * Times are the process's CPU time per run (steadier than wall time on a shared machine); wall time is kept too.
 * - filter: a backend's `tools/list` answer of 100 / 1,000 / 10,000 tools (JSON text) against 200 rules, and 1,000
 *   tools against 20 / 2,000 rules, as functions/proxy/filtered-response.ts does it for a JSON body: parse, judge each
 *   tool with the request's judge (functions/core/judge.ts, built per request), drop the denied ones
 *   (functions/mcp/list-filter.ts), serialise. Median after one unmeasured run. JSON.parse of the same text alone is
 *   timed beside it: the floor of any filter that reads the list.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filterListResults } from "../../functions/mcp/list-filter.js";
import { generatedPolicy, toolsListResult } from "./fixtures.js";
import { benchCallerAllows, loadPolicyFile } from "./judging.js";
import { median, repeat, timeOnce } from "./stats.js";

export interface LoadFigure {
  rules: number;
  /** CPU ms of the first load in the process. */
  firstMs: number;
  /** Median CPU ms (the figure), and median wall ms. */
  medianMs: number;
  wallMs: number;
  runs: number;
  /** Milliseconds per 100 rules (flat or falling = linear or better). */
  msPer100Rules: number;
}

export interface FilterFigure {
  tools: number;
  rules: number;
  /** Median CPU ms (the figure), and median wall ms. */
  medianMs: number;
  wallMs: number;
  runs: number;
  kept: number;
  /** Microseconds per tool. */
  usPerTool: number;
  /** Median CPU ms of JSON.parse of the same text alone: the floor of any filter that reads the list. */
  parseOnlyMs: number;
}

export interface ScaleResult {
  shapes: Record<string, number>;
  load: LoadFigure[];
  filter: FilterFigure[];
}

const RULE_COUNTS = [20, 200, 2_000];
const FILTER_CASES: Array<[tools: number, rules: number]> = [
  [100, 200],
  [1_000, 200],
  [10_000, 200],
  [1_000, 20],
  [1_000, 2_000],
];

export async function runScale(): Promise<ScaleResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-scale-"));
  try {
    const files = new Map<number, string>();
    for (const rules of RULE_COUNTS) {
      const path = join(dir, `policy-${rules}.yaml`);
      await writeFile(path, generatedPolicy(rules).yaml);
      files.set(rules, path);
    }
    const loads: LoadFigure[] = [];
    for (const rules of RULE_COUNTS) {
      const path = files.get(rules) as string;
      const first = await timeOnce(() => loadPolicyFile(path));
      const times = await repeat(() => loadPolicyFile(path), { minRuns: 5, maxRuns: 50, budgetMs: 2_000 });
      const medianMs = median(times.map((t) => t.cpuMs));
      loads.push({ rules, firstMs: first.cpuMs, medianMs, wallMs: median(times.map((t) => t.wallMs)), runs: times.length, msPer100Rules: (medianMs / rules) * 100 });
    }

    const filters: FilterFigure[] = [];
    for (const [tools, rules] of FILTER_CASES) {
      const policy = await loadPolicyFile(files.get(rules) as string);
      const text = toolsListResult(1, tools);
      let kept = 0;
      const filterOnce = () => {
        const outcome = filterListResults(JSON.parse(text), benchCallerAllows(policy));
        const body = outcome.removed > 0 ? JSON.stringify(outcome.message) : text;
        kept = tools - outcome.removed;
        return body.length;
      };
      filterOnce();
      const times = await repeat(filterOnce, { minRuns: 3, maxRuns: 50, budgetMs: 2_000 });
      const medianMs = median(times.map((t) => t.cpuMs));
      const parses = await repeat(() => JSON.parse(text), { minRuns: 3, maxRuns: 50, budgetMs: 500 });
      const parseOnlyMs = median(parses.map((t) => t.cpuMs));
      filters.push({ tools, rules, medianMs, wallMs: median(times.map((t) => t.wallMs)), runs: times.length, kept, usPerTool: (medianMs * 1000) / tools, parseOnlyMs });
    }
    return { shapes: generatedPolicy(200).shapes, load: loads, filter: filters };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
