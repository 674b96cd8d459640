/**
 * The load generator: a fixed rotation of allowed, denied and invalid requests, each with the status (and body) the
 * gateway must answer it with, sent by autocannon on a thread of its own (so the gateway's thread runs the gateway
 * alone), and a tally of what the gateway did answer. Loaded with `GENERATOR_ROLE` as `workerData`, this module is
 * that thread: it answers `ToGenerator` messages (set up, run a phase, tally, close) with `FromGenerator` ones.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import autocannon from "autocannon";

export const PROTOCOL_VERSION = "2025-06-18";
/** The largest body the gateway accepts in the load test; the oversized request is just above it. */
export const MAX_BODY_BYTES = 65536;

export interface Tokens {
  boss: string;
  jsmith: string;
  expired: string;
  /** The boss's signed token with jsmith's payload, given the admin role, swapped in. */
  tampered: string;
}

export type Group = "allowed" | "denied" | "invalid";

export interface Kind {
  name: string;
  group: Group;
  expectedStatus: number;
  method: "POST" | "PUT";
  headers: Record<string, string>;
  /** The body for the JSON-RPC id `id` (ids are unique across the run: requests share a session concurrently). */
  body?: (id: number) => string;
  /** What the response body must show besides the status. */
  check?: (body: string, id: number) => boolean;
  /** The message the backend must receive for each request of this kind (none: it must receive nothing). */
  backendMessage?: string;
}

export interface Sessions {
  boss: string;
  jsmith: string;
}

const call = (id: number | string, name: string, message: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { message } } });
const answers = (body: string, id: number) => new RegExp(`"id":${id}[,}]`).test(body);

export function requestKinds(tokens: Tokens, sessions: Sessions): Kind[] {
  const json = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const as = (token: string, session: string) => ({ ...json, authorization: `Bearer ${token}`, "mcp-session-id": session, "mcp-protocol-version": PROTOCOL_VERSION });
  const boss = as(tokens.boss, sessions.boss);
  const jsmith = as(tokens.jsmith, sessions.jsmith);
  const toolsList = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list" });
  const unauthorized = (body: string) => body.includes('"code":-32001');
  const filler = "x".repeat(MAX_BODY_BYTES);
  const post = (name: string, group: Group, expectedStatus: number, headers: Record<string, string>, more: Partial<Kind>): Kind =>
    ({ name, group, expectedStatus, method: "POST", headers, body: toolsList, ...more });
  return [
    post("boss tools/call echo", "allowed", 200, boss, {
      body: (id) => JSON.stringify(call(id, "echo", `load ${id}`)),
      check: (body, id) => answers(body, id) && body.includes(`"text":"load ${id}"`),
      backendMessage: "tools/call echo",
    }),
    post("boss tools/list", "allowed", 200, boss, { check: (body, id) => answers(body, id) && body.includes('"name":"echo"'), backendMessage: "tools/list" }),
    post("jsmith tools/list (echo filtered)", "allowed", 200, jsmith, {
      check: (body, id) => answers(body, id) && body.includes('"tools":[]'),
      backendMessage: "tools/list",
    }),
    post("jsmith tools/call echo", "denied", 200, jsmith, {
      body: (id) => JSON.stringify(call(id, "echo", "not for jsmith")),
      check: (body, id) => answers(body, id) && body.includes('"code":-32602') && body.includes("Unknown tool: echo"),
    }),
    post("boss batch, one element denied", "denied", 200, boss, {
      body: (id) => JSON.stringify([call(id, "echo", "never sent"), call(`${id}-b`, "delete_everything", "never sent")]),
      check: (body, id) => answers(body, id) && body.includes('"code":-32600') && body.includes('"code":-32602'),
    }),
    post("no token", "invalid", 401, json, { check: unauthorized }),
    post("expired token", "invalid", 401, as(tokens.expired, sessions.boss), { check: unauthorized }),
    post("tampered token", "invalid", 401, as(tokens.tampered, sessions.boss), { check: unauthorized }),
    post("malformed JSON", "invalid", 400, boss, { body: (id) => `{"jsonrpc":"2.0","id":${id},"method":"tools/list"`, check: (body) => body.includes('"code":-32700') }),
    post("text/plain body", "invalid", 415, { ...boss, "content-type": "text/plain" }, {}),
    post("PUT", "invalid", 405, boss, { method: "PUT", body: undefined }),
    post(`body over ${MAX_BODY_BYTES} bytes`, "invalid", 413, boss, { body: (id) => JSON.stringify(call(id, "echo", filler)) }),
  ];
}

/** The order each connection sends them in, over and over: the allowed echo call twice per round. */
export function rotation(kinds: Kind[]): Kind[] {
  const [echo, ...others] = kinds as [Kind, ...Kind[]];
  const half = Math.ceil(others.length / 2);
  return [echo, ...others.slice(0, half), echo, ...others.slice(half)];
}

export interface Unexpected {
  kind: string;
  expected: number;
  got: string;
  count: number;
  sample: string;
}

/** What the gateway answered, kind by kind, and what the backend should have received because of it. */
export interface TallySnapshot {
  /** kind name → [status, responses]. */
  byKind: [string, [number, number][]][];
  unexpected: Unexpected[];
  /** Backend messages the answered requests should have caused, by method. */
  backendExpected: [string, number][];
}

class Tally {
  private readonly byKind = new Map<string, Map<number, number>>();
  private readonly unexpected = new Map<string, Unexpected>();
  private readonly backendExpected = new Map<string, number>();
  private nextId = 1;

  record(kind: Kind, status: number, body: string, id: number): void {
    const statuses = this.byKind.get(kind.name) ?? new Map<number, number>();
    this.byKind.set(kind.name, statuses.set(status, (statuses.get(status) ?? 0) + 1));
    const bodyOk = status !== kind.expectedStatus || !kind.check || kind.check(body, id);
    if (status === kind.expectedStatus && bodyOk) {
      if (kind.backendMessage) this.backendExpected.set(kind.backendMessage, (this.backendExpected.get(kind.backendMessage) ?? 0) + 1);
      return;
    }
    const got = bodyOk ? String(status) : `${status}, body not as expected`;
    const key = `${kind.name}|${got}`;
    const entry = this.unexpected.get(key) ?? { kind: kind.name, expected: kind.expectedStatus, got, count: 0, sample: body.slice(0, 300) };
    entry.count++;
    this.unexpected.set(key, entry);
  }

  /** The rotation as autocannon requests: a fresh JSON-RPC id per request, every response tallied. */
  requests(kinds: Kind[]): autocannon.Request[] {
    return kinds.map((kind) => ({
      method: kind.method,
      headers: kind.headers,
      setupRequest: (request, context) => {
        const id = this.nextId++;
        (context as { id?: number }).id = id;
        return kind.body ? { ...request, body: kind.body(id) } : request;
      },
      onResponse: (status, body, context) => this.record(kind, status, body, (context as { id?: number }).id ?? -1),
    }));
  }

  snapshot(): TallySnapshot {
    return {
      byKind: [...this.byKind].map(([name, statuses]) => [name, [...statuses]]),
      unexpected: [...this.unexpected.values()],
      backendExpected: [...this.backendExpected],
    };
  }
}

export interface PhaseResult {
  name: string;
  /** Responses received. */
  requests: number;
  seconds: number;
  errors: number;
  timeouts: number;
  /** Transport errors by code. */
  errorCodes: [string, number][];
  /** Response times in milliseconds. */
  latencies: number[];
}

/**
 * Runs one phase. Its duration is taken from the first request to the last response: autocannon's own is rounded up
 * to its sampling interval (shortened here so a phase ends promptly after its last response).
 */
function runPhase(url: string, requests: autocannon.Request[], connections: number, name: string, amount: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  const errorCodes = new Map<string, number>();
  const started = performance.now();
  let lastResponse = started;
  return new Promise((resolve, reject) => {
    const options = { url, connections: Math.min(connections, amount), amount, requests, timeout: 10, sampleInt: 100 };
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      if (error) return reject(error);
      const { errors, timeouts } = result;
      resolve({ name, requests: latencies.length, seconds: (lastResponse - started) / 1000, errors, timeouts, errorCodes: [...errorCodes], latencies });
    });
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastResponse = performance.now();
    });
    instance.on("reqError", (error: { code?: string; message?: string }) => {
      const code = error.code ?? error.message ?? "unknown";
      errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
    });
  });
}

/** The `workerData` that makes this module the load generator's thread. */
export const GENERATOR_ROLE = "load-test load generator";
export const GENERATOR_MODULE = import.meta.url;

export type KindSummary = Pick<Kind, "name" | "group" | "expectedStatus">;
export interface Setup {
  url: string;
  tokens: Tokens;
  sessions: Sessions;
  connections: number;
}
export type ToGenerator = "tally" | "close" | { setup: Setup } | { phase: string; amount: number };
export type FromGenerator = "ready" | { kinds: KindSummary[] } | PhaseResult | TallySnapshot;

if (!isMainThread && workerData === GENERATOR_ROLE && parentPort) {
  const port = parentPort;
  const tally = new Tally();
  let setup: Setup | undefined;
  let requests: autocannon.Request[] = [];
  port.on("message", (message: ToGenerator) => {
    if (message === "close") port.close();
    else if (message === "tally") port.postMessage(tally.snapshot() satisfies FromGenerator);
    else if ("setup" in message) {
      setup = message.setup;
      const kinds = requestKinds(setup.tokens, setup.sessions);
      requests = tally.requests(rotation(kinds));
      port.postMessage({ kinds: kinds.map(({ name, group, expectedStatus }) => ({ name, group, expectedStatus })) } satisfies FromGenerator);
    } else {
      if (!setup) throw new Error("the load generator was asked to run before it was set up");
      void runPhase(setup.url, requests, setup.connections, message.phase, message.amount).then((result) => port.postMessage(result satisfies FromGenerator));
    }
  });
  port.postMessage("ready" satisfies FromGenerator);
}
