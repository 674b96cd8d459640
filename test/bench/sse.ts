/**
 * One large list over SSE against the same list as a JSON body, in-process through the gateway's response path: a
 * backend's `tools/list` answer of about 1 / 4 / 8 / 16 MiB (one SSE event, or the JSON body alone), arriving in
 * 64 KiB chunks, turned into the client's response by `filteredResponse` (functions/proxy/filtered-response.ts)
 * against the 200-rule generated policy (which removes most tools for the bench caller), and the client's response
 * read to its end. The figure is the process's CPU time per run (median, the two kinds alternating, a forced GC
 * before each), and the ratio of the two: what reading a list event by event costs beyond reading it whole.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessLog } from "../../functions/http/access-log.js";
import type { ItemPredicate } from "../../functions/mcp/list-filter.js";
import { filteredResponse } from "../../functions/proxy/filtered-response.js";
import { DEFAULTS } from "../../functions/config/env-schema.js";
import { generatedPolicy, toolsListResult } from "./fixtures.js";
import { benchCallerAllows, loadPolicyFile } from "./judging.js";
import { median, timeOnce, type Timing } from "./stats.js";

export const SSE_SIZES_MIB = [1, 4, 8, 16];
export const SSE_CHUNK_BYTES = 64 * 1024;
/** As deployed: the default keep-alive interval, so the keep-alive layer is measured with the rest. */
const KEEP_ALIVE_MS = DEFAULTS.SSE_KEEPALIVE_SECONDS * 1000;
const RULES = 200;
const MIB = 1024 * 1024;
/** Above the largest size measured, which is over MAX_BACKEND_MESSAGE_BYTES's default (16 MiB): nothing is cut. */
const MAX_MESSAGE_BYTES = 32 * MIB;

export interface SseFigure {
  mib: number;
  tools: number;
  /** Bytes of the SSE body (the JSON body is 23 bytes shorter: `event: message\ndata: ` and the blank line). */
  bytes: number;
  kept: number;
  /** Median CPU ms per run through the SSE filter, and through the JSON body's path. */
  sseMs: number;
  jsonMs: number;
  /** sseMs / jsonMs. */
  ratio: number;
  /** CPU ms per MiB through the SSE filter (flat = linear in the event's size). */
  sseMsPerMib: number;
  runs: number;
}

export interface SseResult {
  chunkBytes: number;
  rules: number;
  figures: SseFigure[];
}

export interface SseOptions {
  /** Runs per size and kind: at least `minRuns`, then more while `budgetMs` lasts (at most `maxRuns`). */
  minRuns: number;
  maxRuns: number;
  budgetMs: number;
}

/** The body as a backend sends it: `chunkBytes` at a time, each read when the reader asks for it. */
function chunked(bytes: Uint8Array, chunkBytes = SSE_CHUNK_BYTES): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

/** How many generated tools make a tools/list answer of about `mib` MiB. */
function toolsForSize(mib: number): number {
  const sample = 1_000;
  const bytesPerTool = toolsListResult(1, sample).length / sample;
  return Math.round((mib * MIB) / bytesPerTool);
}

const SILENT = { info() {}, warn() {}, error() {} };
const REQUEST = new Request("http://127.0.0.1/mcp", { method: "POST" });

/**
 * The backend's answer, labelled `contentType`, through the response path to the client's last byte; returns how many
 * tools were removed (the access log's count, which also says the list was judged).
 */
async function throughResponsePath(body: Uint8Array, contentType: string, allows: ItemPredicate): Promise<number> {
  const log = new AccessLog(SILENT, REQUEST);
  const upstream = { response: new Response(chunked(body), { status: 200, headers: { "content-type": contentType } }), stopTimer() {}, deadline: new Promise<never>(() => {}) };
  const response = await filteredResponse(upstream, { allows, log, pendingRequestId: 1, carriesServerRequests: true, maxMessageBytes: MAX_MESSAGE_BYTES, answersPost: true, keepAliveMs: KEEP_ALIVE_MS });
  await response.arrayBuffer();
  if (response.status !== 200 || log.entry.reason !== undefined) throw new Error(`${contentType}: answered ${response.status} (${log.entry.reason ?? "no reason logged"})`);
  return log.entry.listItemsRemoved ?? 0;
}

const throughSse = (body: Uint8Array, allows: ItemPredicate) => throughResponsePath(body, "text/event-stream", allows);
const throughJson = (body: Uint8Array, allows: ItemPredicate) => throughResponsePath(body, "application/json", allows);

async function measured(run: () => Promise<unknown>): Promise<Timing> {
  globalThis.gc?.();
  return timeOnce(run);
}

export async function runSse(options: SseOptions): Promise<SseResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-sse-"));
  try {
    const path = join(dir, `policy-${RULES}.yaml`);
    await writeFile(path, generatedPolicy(RULES).yaml);
    const policy = await loadPolicyFile(path);
    // A judge per request, as the gateway builds it.
    const allows = () => benchCallerAllows(policy);
    const encoder = new TextEncoder();
    const figures: SseFigure[] = [];
    for (const mib of SSE_SIZES_MIB) {
      const tools = toolsForSize(mib);
      const list = toolsListResult(1, tools);
      const json = encoder.encode(list);
      const sse = encoder.encode(`event: message\ndata: ${list}\n\n`);
      // One unmeasured run of each, which also checks that both remove the same tools.
      const [sseRemoved, jsonRemoved] = [await throughSse(sse, allows()), await throughJson(json, allows())];
      if (sseRemoved !== jsonRemoved || sseRemoved === 0) throw new Error(`${mib} MiB: the SSE path removed ${sseRemoved} tools, the JSON path ${jsonRemoved}`);
      const sseTimes: Timing[] = [];
      const jsonTimes: Timing[] = [];
      const started = performance.now();
      while (sseTimes.length < options.minRuns || (sseTimes.length < options.maxRuns && performance.now() - started < options.budgetMs)) {
        sseTimes.push(await measured(() => throughSse(sse, allows())));
        jsonTimes.push(await measured(() => throughJson(json, allows())));
      }
      const sseMs = median(sseTimes.map((t) => t.cpuMs));
      const jsonMs = median(jsonTimes.map((t) => t.cpuMs));
      figures.push({ mib, tools, bytes: sse.length, kept: tools - sseRemoved, sseMs, jsonMs, ratio: sseMs / jsonMs, sseMsPerMib: sseMs / mib, runs: sseTimes.length });
    }
    return { chunkBytes: SSE_CHUNK_BYTES, rules: RULES, figures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
