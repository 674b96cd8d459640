/**
 * A CPU profile of part of a run, taken in-process with the V8 inspector (the same profiler as `node --cpu-prof`, but
 * started and stopped around the measured requests only, so set-up such as token signing is left out), and summed up
 * by where the time is spent: self time per package or source file, and per function.
 *
 * The gateway runs as its minified bundle, so its frames name the bundle, minified functions and positions in it;
 * they are mapped back through the bundle's source map (node:module's SourceMap) to the package or project file and
 * the function's original name and line. The raw .cpuprofile keeps the bundle's frames.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { SourceMap } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  where: string;
  /** Self time, microseconds per profiled request. */
  usPerRequest: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

export interface ProfileSummary {
  requests: number;
  /** Busy CPU time seen by the profiler per request, microseconds (the main thread only). */
  busyUsPerRequest: number;
  byPlace: ProfileEntry[];
  byFunction: ProfileEntry[];
  /** Where the raw .cpuprofile was written (open it in Chrome DevTools or VS Code), if asked. */
  file?: string;
}

const PROJECT = fileURLToPath(new URL("../../", import.meta.url));

/** Which package, Node.js part or project file a script URL belongs to. */
export function placeOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native or V8 builtin)";
  if (url.startsWith("node:internal/deps/undici")) return "node: undici (fetch)";
  if (url.startsWith("node:")) return `node: ${url.replace(/^node:(internal\/)?/, "").split("/")[0]}`;
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const inModules = path.lastIndexOf("/node_modules/");
  if (inModules >= 0) {
    const [scope, name] = path.slice(inModules + "/node_modules/".length).split("/");
    return scope?.startsWith("@") ? `${scope}/${name}` : (scope ?? path);
  }
  return path.startsWith(PROJECT) ? path.slice(PROJECT.length) : path;
}

/** Maps frames in a bundle to their sources: the original file's URL, the function's original name and line. */
export function bundleFrames(bundle: string): (frame: CallFrame) => CallFrame {
  const url = pathToFileURL(bundle).href;
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8")));
  const lines = readFileSync(bundle, "utf8").split("\n");
  const cache = new Map<string, CallFrame>();
  type Entry = { generatedLine?: number; generatedColumn?: number; originalSource?: string; originalLine?: number; name?: string };
  const entry = (line: number, column: number) => map.findEntry(line, column) as Entry;
  return (frame) => {
    if (frame.url !== url) return frame;
    const key = `${frame.lineNumber}:${frame.columnNumber}:${frame.functionName}`;
    let mapped = cache.get(key);
    if (mapped) return mapped;
    const start = entry(frame.lineNumber, frame.columnNumber);
    // The function's name as written in the bundle (minified or not), nearest before its start: its original is the
    // name the source map gives that position, when it was renamed.
    let functionName = frame.functionName;
    // V8 names getters "get x", and some functions "A.b": the last identifier is the one written at the function.
    const written = /[\w$]+$/.exec(functionName)?.[0];
    if (written) {
      const text = lines[frame.lineNumber] ?? "";
      const from = Math.max(0, frame.columnNumber - 300);
      const before = text.slice(from, frame.columnNumber + written.length + 1);
      const escaped = written.replace(/\$/g, "\\$&");
      const at = [...before.matchAll(new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, "g"))].at(-1)?.index;
      // Only a mapping that starts right there names it (the one found may start before, at another name).
      const there = at === undefined ? undefined : entry(frame.lineNumber, from + at);
      const original = there?.generatedLine === frame.lineNumber && there.generatedColumn === from + (at ?? 0) ? there.name : undefined;
      if (original) functionName = functionName.slice(0, -written.length) + original;
    }
    mapped = start.originalSource === undefined
      ? frame
      : {
          functionName,
          url: pathToFileURL(resolve(dirname(bundle), start.originalSource)).href,
          lineNumber: start.originalLine ?? 0,
          columnNumber: 0,
        };
    cache.set(key, mapped);
    return mapped;
  };
}

function top(totals: Map<string, number>, busy: number, requests: number, count: number): ProfileEntry[] {
  return [...totals]
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([where, us]) => ({ where, usPerRequest: us / requests, share: us / busy }));
}

/** Nodes under a call into node:inspector: the profiler's own work (stopping it, sending the profile), not counted. */
function profilerNodes(profile: CpuProfile): Set<number> {
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const excluded = new Set<number>();
  for (const node of profile.nodes) {
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      if (nodes.get(id)?.callFrame.url === "node:inspector") {
        excluded.add(node.id);
        break;
      }
    }
  }
  return excluded;
}

export function summarize(profile: CpuProfile, requests: number, count = 12, frames: (frame: CallFrame) => CallFrame = (frame) => frame): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, { ...node, callFrame: frames(node.callFrame) }]));
  const excluded = profilerNodes(profile);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!excluded.has(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    busy += us;
    const place = placeOf(frame.url, frame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${frame.url ? `${place}:${frame.lineNumber + 1}` : ""}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  return {
    requests,
    busyUsPerRequest: busy / requests,
    byPlace: top(byPlace, busy, requests, count),
    byFunction: top(byFunction, busy, requests, count),
  };
}

/**
 * Profiles `work` (which makes `requests` requests) with a 100 µs sampling interval; frames in `bundle` are mapped to
 * its sources, and the raw profile written to `saveTo` if given.
 */
export async function profileWhile(requests: number, work: () => Promise<void>, options: { saveTo?: string | undefined; bundle?: string } = {}): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    await work();
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
    const summary = summarize(profile, requests, 12, options.bundle ? bundleFrames(options.bundle) : undefined);
    if (options.saveTo) {
      await writeFile(options.saveTo, JSON.stringify(profile));
      summary.file = options.saveTo;
    }
    return summary;
  } finally {
    session.disconnect();
  }
}
