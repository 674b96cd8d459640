/**
 * Server-to-client traffic through the streaming Lambda front door (functions/streaming-handler.ts behind a REST API
 * in STREAM mode), run through the stand-in for the Lambda runtime's response streaming: a real v1-SDK client whose
 * requests become REST API events, and whose responses grow as the function writes, so the client can answer the
 * backend's requests while the call's invocation is still running.
 */
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { restApiEvent } from "../support/api-gateway-events.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { captureFunctionLogs, type FunctionLogs } from "../support/function-logs.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import {
  ELICITATION_SCHEMA,
  INTERACTIVE_ROLE,
  startInteractiveBackend,
  writeInteractivePolicy,
  type InteractiveBackend,
} from "../support/interactive-backend.js";
import {
  ELICITED,
  SAMPLING_MODEL,
  connectInteractiveClient,
  expectedReceived,
  resultText,
  type InteractiveClient,
} from "../support/interactive-client.js";
import { streamingLambdaFetch } from "../support/lambda-fetch.js";
import { installLambdaStreamingRuntime } from "../support/lambda-streaming-runtime.js";

const DOMAIN = "mcp.example.com";
const URL_THROUGH_API = `https://${DOMAIN}/mcp`;

let idp: TestIdentityProvider;
let backend: InteractiveBackend;
let ada: string;
let logs: FunctionLogs;
let fetchThroughLambda: ReturnType<typeof streamingLambdaFetch>;
let removeRuntime: () => void = () => undefined;
let restoreEnvironment: () => void = () => undefined;
const invocations: { context: Context; method: string }[] = [];
const clients: InteractiveClient[] = [];

beforeAll(async () => {
  removeRuntime = installLambdaStreamingRuntime();
  [idp, backend] = await Promise.all([startIdentityProvider(), startInteractiveBackend()]);
  restoreEnvironment = setFunctionEnvironment({
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: writeInteractivePolicy(),
  });
  logs = captureFunctionLogs("mcp-sso-gateway");
  const { handler } = await import("../../functions/streaming-handler.js");
  fetchThroughLambda = streamingLambdaFetch(
    handler,
    (request) => restApiEvent(request, { domainName: DOMAIN, stage: "prod" }),
    (context, request) => void invocations.push({ context, method: request.method }),
  );
  ada = await idp.token({ subject: "ada", claims: { roles: [INTERACTIVE_ROLE] }, expiresIn: "1h" });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  vi.restoreAllMocks();
  restoreEnvironment();
  removeRuntime();
  await backend?.close();
  await idp?.close();
});

async function connect(): Promise<InteractiveClient> {
  const client = await connectInteractiveClient(URL_THROUGH_API, ada, { fetch: fetchThroughLambda });
  clients.push(client);
  return client;
}

const sentBy = (tool: string, from = 0) => backend.sent.slice(from).filter((message) => message.tool === tool);

/** The access-log line of the last invocation for a tools/call of `tool`. */
function accessLogOfCall(tool: string): Record<string, unknown> | undefined {
  const ids = new Set(invocations.map((invocation) => invocation.context.awsRequestId));
  return logs.lines.filter((line) => ids.has(line.function_request_id as string) && "status" in line && line.tool === tool).at(-1);
}

describe("server-to-client traffic through the streaming Lambda front door", () => {
  it("delivers progress and logging notifications in the order the backend sent them, then the result", async () => {
    const session = await connect();
    const from = backend.sent.length;
    const result = await session.call("progress_steps", { steps: 3, log: true, intervalMs: 30 });
    expect(resultText(result)).toBe("done after 3 steps");
    const sent = sentBy("progress_steps", from);
    expect(sent).toHaveLength(6);
    expect(session.received).toEqual(expectedReceived(sent));
    // Written when the invocation's stream ends, which may be just after the client has read the result.
    await vi.waitFor(() => expect(accessLogOfCall("progress_steps")).toMatchObject({ status: 200, mcpMethod: "tools/call", decision: "allowed", subject: "ada" }));
  });

  it("delivers logging notifications at every level, in order", async () => {
    const session = await connect();
    const from = backend.sent.length;
    const levels = ["debug", "info", "warning", "error", "alert", "emergency"];
    expect(resultText(await session.call("log_levels", { levels }))).toBe("logged 6 messages");
    expect(session.received).toEqual(levels.map((level) => ({ kind: "log", level, data: `a ${level} message` })));
    expect(session.received).toEqual(expectedReceived(sentBy("log_levels", from)));
  });

  it("completes a sampling round trip while the call's invocation is still streaming", async () => {
    const session = await connect();
    const answersBefore = backend.answers.length;
    const result = await session.call("ask_sampling", { prompt: "Name a prime." });
    expect(resultText(result)).toBe(`the client sampled: an answer to "Name a prime." (model ${SAMPLING_MODEL})`);
    expect(session.asked.map((request) => request.method)).toEqual(["sampling/createMessage"]);
    expect(backend.answers.slice(answersBefore)).toEqual([
      {
        tool: "ask_sampling",
        method: "sampling/createMessage",
        result: { role: "assistant", content: { type: "text", text: 'an answer to "Name a prime."' }, model: SAMPLING_MODEL, stopReason: "endTurn" },
      },
    ]);
    expect(backend.clientResponses.at(-1)).toMatchObject({ result: { model: SAMPLING_MODEL } });
    expect(session.received).toEqual([{ kind: "log", level: "info", data: "asking the client to sample" }]);
  });

  it("completes an elicitation round trip while the call's invocation is still streaming", async () => {
    const session = await connect();
    const answersBefore = backend.answers.length;
    const result = await session.call("ask_elicitation", { message: "Your name, please" });
    expect(resultText(result)).toBe(`the user answered: ${JSON.stringify({ action: "accept", content: ELICITED })}`);
    expect(session.asked).toEqual([
      { method: "elicitation/create", params: expect.objectContaining({ message: "Your name, please", requestedSchema: ELICITATION_SCHEMA }) },
    ]);
    expect(backend.answers.slice(answersBefore)).toEqual([
      { tool: "ask_elicitation", method: "elicitation/create", result: { action: "accept", content: ELICITED } },
    ]);
  });

  it("carries the backend's notifications on the standalone GET stream (held open by its own invocation)", async () => {
    const session = await connect();
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(1), { timeout: 3_000 });
    const from = backend.sent.length;
    expect(resultText(await session.call("notify_session", { uri: "docs://public/readme" }))).toBe("notified");
    await vi.waitFor(() => expect(session.received).toHaveLength(2), { timeout: 3_000 });
    expect(session.received).toEqual(expectedReceived(sentBy("notify_session", from)));
    // Closing the client breaks its GET invocation's stream; the gateway then lets go of the backend's stream.
    await session.close();
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(0), { timeout: 3_000 });
  });
});
