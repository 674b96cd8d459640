/**
 * The floor of the gateway's warm compute: a minimal program doing only the work no gateway of this kind can skip
 * for one buffered Lambda invocation (an API Gateway HTTP API event in, a result out), measured in the same run, on
 * the same in-process backend (in-process-backend.ts), as the gateway's own figure.
 *
 * Two floors: `node` does the unavoidable work with Node's own parts only (the body read from the event, the
 * verified token found in a map, the JSON-RPC message parsed and its tool name looked up, one node:http request to
 * the backend on a kept-alive agent, its answer gathered and parsed, as the gateway must to judge it, and the judged
 * text returned); `web` does the same through the web-standard `Request` and `Response` the core's contract takes
 * and returns (built from the event, its body read; the answer wrapped and read by the adapter). How far the gateway
 * is above each says what its own code costs, and what the contract does.
 */
import http from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

export type FloorKind = "node" | "web";

interface FloorResult {
  statusCode: number;
  body: string;
}

/** One backend request, the answer's bytes gathered: the least any HTTP client does. */
function post(url: URL, agent: http.Agent, body: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } });
    request.once("response", (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      answer.once("error", reject);
    });
    request.once("error", reject);
    request.end(body);
  });
}

/**
 * A handler doing only the unavoidable work, for the backend at `backendUrl`. `token` is the one token it accepts
 * (verified once, as the gateway's cache holds a verified token), `allowed` the tools it lets through.
 */
export function floorHandler(kind: FloorKind, backendUrl: string, token: string, allowed: ReadonlySet<string>) {
  const url = new URL(backendUrl);
  const agent = new http.Agent({ keepAlive: true });
  const verified = new Map([[token, { sub: "caller" }]]);
  const refuse = (statusCode: number): FloorResult => ({ statusCode, body: "" });

  function judge(bearer: string | undefined, text: string): boolean {
    if (bearer === undefined || !verified.has(bearer.slice("Bearer ".length))) return false;
    const message = JSON.parse(text) as { method?: string; params?: { name?: string } };
    return message.method === "tools/call" && allowed.has(message.params?.name ?? "");
  }

  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  return async (event: APIGatewayProxyEventV2): Promise<FloorResult> => {
    if (kind === "node") {
      const text = event.body ?? "";
      if (!judge(event.headers.authorization, text)) return refuse(403);
      const answer = await post(url, agent, text, headers);
      JSON.parse(answer);
      return { statusCode: 200, body: answer };
    }
    const request = new Request(`https://${event.requestContext.domainName}${event.rawPath}`, {
      method: event.requestContext.http.method,
      headers: event.headers as Record<string, string>,
      body: event.body ?? "",
    });
    const text = await request.text();
    if (!judge(request.headers.get("authorization") ?? undefined, text)) return refuse(403);
    const answer = await post(url, agent, text, headers);
    JSON.parse(answer);
    const response = new Response(answer, { status: 200, headers: { "content-type": "application/json" } });
    return { statusCode: response.status, body: await response.text() };
  };
}
