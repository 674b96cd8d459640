/**
 * @modelcontextprotocol/server-everything as a backend, behind a wire tap (wire-tap.ts) and nothing else, so it reads
 * the very bytes the gateway wrote with its own parser. Its handlers cannot be instrumented, so what a handler
 * executed is read from the server's own answers: `echo` answers `Echo: <message>`, `get-sum` names both numbers,
 * `get-env` answers with its environment as JSON, the two prompts answer with fixed or argument-bearing text, and a
 * read resource carries the URI the server resolved.
 */
import type { HandlerRecord } from "./sdk-backends.js";
import { startEverything, type EverythingServer } from "../everything-server.js";
import { startWireTap, type WireTap } from "./wire-tap.js";

export interface EverythingBackend {
  /** The tap's endpoint: what the gateway talks to. */
  url: string;
  tap: WireTap;
  close(): Promise<void>;
}

export async function startEverythingBackend(): Promise<EverythingBackend> {
  const server: EverythingServer = await startEverything();
  const tap = await startWireTap(server.directUrl);
  return {
    url: tap.url,
    tap,
    async close() {
      await tap.close();
      await server.stop();
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function firstText(items: unknown): string | undefined {
  if (!Array.isArray(items)) return undefined;
  const first: unknown = items[0];
  if (!isObject(first)) return undefined;
  const content = isObject(first.content) ? first.content : first;
  return typeof content.text === "string" ? content.text : undefined;
}

/**
 * What server-everything executed to produce `answer` (the JSON-RPC response to one request), read from the answer
 * alone; undefined when it executed nothing (an error, or a result no handler of its writes).
 */
export function everythingExecution(answer: unknown): HandlerRecord | undefined {
  if (!isObject(answer) || !isObject(answer.result) || answer.result.isError === true) return undefined;
  const { result } = answer;
  if (Array.isArray(result.content)) {
    const text = firstText(result.content);
    if (text === undefined) return undefined;
    const echo = /^Echo: ([\s\S]*)$/.exec(text);
    if (echo) return { method: "tools/call", name: "echo", arguments: { message: echo[1] } };
    const sum = /^The sum of (.+) and (.+) is (.+)\.$/.exec(text);
    if (sum) return { method: "tools/call", name: "get-sum", arguments: { a: Number(sum[1]), b: Number(sum[2]) } };
    if (text.startsWith("{") && text.includes('"PATH"')) return { method: "tools/call", name: "get-env", arguments: {} };
    return { method: "tools/call", name: "(unrecognised tool)" };
  }
  if (Array.isArray(result.messages)) {
    const text = firstText(result.messages);
    if (text === "This is a simple prompt without arguments.") return { method: "prompts/get", name: "simple-prompt", arguments: {} };
    const weather = text === undefined ? null : /^What's weather in ([\s\S]*)\?$/.exec(text);
    if (weather) return { method: "prompts/get", name: "args-prompt", arguments: { location: weather[1] } };
    return { method: "prompts/get", name: "(unrecognised prompt)" };
  }
  if (Array.isArray(result.contents) && isObject(result.contents[0]) && typeof result.contents[0].uri === "string") {
    return { method: "resources/read", name: result.contents[0].uri };
  }
  return undefined;
}
