/**
 * Check 7, with a token: whether the front door streams. After initialize the MCP SDK client opens the
 * server-to-client stream with GET (when the server took notifications/initialized with 202); doctor reads the answer
 * the client got rather than opening a second stream (an MCP server may allow only one per session). The gateway
 * answers that GET with 405 on a buffered front door, which clients accept; a 200 text/event-stream means streaming.
 */
import type { ObservedFetch } from "./observed-fetch.js";
import { describeAnswer } from "./observed-fetch.js";
import type { Finding } from "./report.js";

/**
 * @param since the index of the first exchange of the connection (the client's GET comes after it).
 */
export async function checkStreaming(endpoint: URL, http: ObservedFetch, since: number): Promise<Finding> {
  const check = "streaming";
  const get = await http.started((exchange) => exchange.method === "GET" && exchange.url === endpoint.href, since);
  if (!get) {
    return { level: "warn", check, seen: "the client opened no server-to-client stream (the server did not take notifications/initialized with 202): progress and server requests arrive only during calls." };
  }
  const type = get.headers?.get("content-type") ?? "";
  if (get.status === 200 && /^text\/event-stream\b/i.test(type)) {
    return { level: "ok", check, seen: "GET opened a text/event-stream: progress, logging and server requests arrive as they happen" };
  }
  if (get.status === 405) {
    return {
      level: "warn",
      check,
      seen: "GET answered 405: buffered front door: progress and server requests arrive only at the end of a call (sampling and elicitation during a call end it with an error).",
      fix: 'for streaming, deploy the restStreaming front door (README, "Front doors").',
    };
  }
  return { level: "warn", check, seen: `GET answered ${describeAnswer(get)}${type ? ` (${type})` : ""}: clients get no server-to-client stream.` };
}
