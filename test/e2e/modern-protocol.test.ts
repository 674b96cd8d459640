/**
 * Protocol 2026-07-28 features that cross the gateway in new ways, with a v2 SDK client and a v2 SDK server:
 *
 * - server-to-client input through `input_required`: the server answers `tools/call` with embedded requests
 *   (elicitation), the client answers them and retries the call with `inputResponses` and the opaque `requestState`.
 *   Each retry is a new `tools/call`, judged by the policy like the first (an argument-aware rule here), and a
 *   caller who may not call the tool never gets an `input_required` at all;
 * - `subscriptions/listen`: every resource URI it names must be readable by the caller, else it is refused before the
 *   backend sees it; the buffered Lambda front door (functions/handler.ts) refuses it altogether.
 *
 * Every check looks at what the backend received and ran, not only at what the client saw.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport, type FetchLike } from "@modelcontextprotocol/client";
import { acceptedContent, inputRequired } from "@modelcontextprotocol/server";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import { httpApiEvent } from "../support/api-gateway-events.js";
import { captureFunctionLogs } from "../support/function-logs.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { bufferedLambdaFetch } from "../support/lambda-fetch.js";
import { startV2Backend, type V2Backend } from "../support/v2-backend.js";

const VERSION = "2026-07-28";
const PUBLIC = "docs://public/readme";
const INTERNAL = "docs://internal/roadmap";
const LAMBDA_DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";

/** Operators may deploy anywhere but prod and read internal docs; everyone may echo and read public docs. */
const POLICY = {
  tools: { echo: ["*"], deploy: { roles: ["operator"], when: 'mcp.tool.arguments.env != "prod"' } },
  resources: { "docs://public/*": ["*"], "docs://internal/*": ["operator"] },
};

/** Every round of `deploy` the backend ran: whether the call carried the confirmation, and for which env. */
interface Round {
  env: string;
  confirmed: boolean;
}

let idp: TestIdentityProvider;
let backend: V2Backend;
let gateway: TestGateway;
const rounds: Round[] = [];
const tokens: Record<"operator" | "guest", string> = { operator: "", guest: "" };

/** A `deploy` that asks for confirmation (elicitation, embedded in `input_required`) before it runs. */
function startBackend(): Promise<V2Backend> {
  return startV2Backend({
    capabilities: { resources: { subscribe: true } },
    extend(server, executed) {
      server.registerTool("deploy", { description: "Deploys", inputSchema: z.object({ env: z.string() }) }, async (args, ctx) => {
        const confirmed = acceptedContent(ctx.mcpReq.inputResponses, "confirm")?.confirm === true;
        rounds.push({ env: args.env, confirmed });
        if (!confirmed) {
          const requestedSchema = { type: "object" as const, properties: { confirm: { type: "boolean" as const } }, required: ["confirm"] };
          return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: `Deploy to ${args.env}?`, requestedSchema }) }, requestState: `deploy-${args.env}` });
        }
        executed.push({ kind: "tool", name: "deploy", arguments: args });
        return { content: [{ type: "text" as const, text: `deployed to ${args.env}` }] };
      });
    },
  });
}

interface TestClient {
  client: Client;
  /** The elicitation requests the client was asked to answer. */
  elicitations: string[];
  /** The resource URIs of the `notifications/resources/updated` the client received. */
  updated: string[];
}

/** Rewrites a request body before it is sent (a client tampering with its retry). */
type Tamper = (body: Record<string, unknown>) => Record<string, unknown>;

async function connect(url: string, options: { token?: string; tamper?: Tamper; fetch?: FetchLike } = {}): Promise<TestClient> {
  const elicitations: string[] = [];
  const updated: string[] = [];
  const client = new Client({ name: "modern-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: VERSION } }, capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler("elicitation/create", async (request) => {
    elicitations.push(request.params.message);
    return { action: "accept", content: { confirm: true } };
  });
  client.setNotificationHandler("notifications/resources/updated", (notification) => void updated.push(notification.params.uri));
  const base = options.fetch ?? fetch;
  const tamperingFetch: FetchLike = async (input, init) => {
    if (!options.tamper || typeof init?.body !== "string") return base(input, init);
    return base(input, { ...init, body: JSON.stringify(options.tamper(JSON.parse(init.body) as Record<string, unknown>)) });
  };
  const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: tamperingFetch }));
  return { client, elicitations, updated };
}

async function settle<T>(step: Promise<T>): Promise<{ result: T } | { error: { code: unknown; message: string } }> {
  try {
    return { result: await step };
  } catch (err) {
    const error = err as { code?: unknown; message?: unknown };
    return { error: { code: error.code, message: String(error.message) } };
  }
}

/** The `tools/call` requests the backend received, with what makes a retry one. */
function backendCalls() {
  return backend.requests
    .filter((request) => request.rpcMethod === "tools/call")
    .map(({ params = {} }) => ({ arguments: params.arguments, inputResponses: params.inputResponses, requestState: params.requestState }));
}

const backendMethods = () => backend.requests.map((request) => request.rpcMethod);

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startBackend()]);
  const policyFile = join(await mkdtemp(join(tmpdir(), "modern-protocol-")), "policy.json");
  await writeFile(policyFile, JSON.stringify(POLICY));
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
  tokens.operator = await idp.token({ subject: "olivia", claims: { roles: ["operator"] }, expiresIn: "1h" });
  tokens.guest = await idp.token({ subject: "gus", claims: { roles: [] }, expiresIn: "1h" });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([backend?.close(), idp?.close()]);
});
beforeEach(() => {
  rounds.length = 0;
  backend.executed.length = 0;
  backend.requests.length = 0;
});

describe("input_required round trips (server-to-client input, 2026-07-28)", () => {
  const deployStaging = { name: "deploy", arguments: { env: "staging" } };

  it("completes through the gateway as it does directly, and each round is judged and logged as its own call", async () => {
    const direct = await connect(backend.url);
    const expected = await direct.client.callTool(deployStaging);
    expect(expected).toMatchObject({ content: [{ type: "text", text: "deployed to staging" }] });
    expect(direct.elicitations).toEqual(["Deploy to staging?"]);
    const directCalls = backendCalls();
    expect(directCalls).toEqual([
      { arguments: { env: "staging" }, inputResponses: undefined, requestState: undefined },
      { arguments: { env: "staging" }, inputResponses: { confirm: { action: "accept", content: { confirm: true } } }, requestState: "deploy-staging" },
    ]);
    backend.requests.length = 0;
    backend.executed.length = 0;
    rounds.length = 0;
    const logStart = gateway.logger.requests().length;

    const via = await connect(gateway.url, { token: tokens.operator });
    expect(await via.client.callTool(deployStaging)).toEqual(expected);
    expect(via.elicitations).toEqual(["Deploy to staging?"]);
    expect(backendCalls(), "the retry reached the backend with its inputResponses and requestState intact").toEqual(directCalls);
    expect(rounds).toEqual([{ env: "staging", confirmed: false }, { env: "staging", confirmed: true }]);
    expect(backend.executed).toEqual([{ kind: "tool", name: "deploy", arguments: { env: "staging" } }]);
    const callLines = gateway.logger.requests().slice(logStart).filter((line) => line.mcpMethod === "tools/call");
    expect(callLines).toEqual([
      expect.objectContaining({ subject: "olivia", tool: "deploy", decision: "allowed", status: 200 }),
      expect.objectContaining({ subject: "olivia", tool: "deploy", decision: "allowed", status: 200 }),
    ]);
    await Promise.all([direct.client.close(), via.client.close()]);
  });

  it("never gives an input_required to a caller who may not call the tool: refused, and the backend never ran it", async () => {
    const guest = await connect(gateway.url, { token: tokens.guest });
    expect(await settle(guest.client.callTool(deployStaging))).toEqual({ error: { code: -32602, message: expect.stringContaining("Unknown tool: deploy") } });
    expect(guest.elicitations).toEqual([]);
    expect(rounds).toEqual([]);
    expect(backendCalls()).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ subject: "gus", tool: "deploy", decision: "denied" });
    await guest.client.close();
  });

  it("judges the retry again: a retry whose arguments the policy denies is refused, though the first round was allowed", async () => {
    // A client that answers the confirmation for staging, then retries the call for prod.
    const toProd: Tamper = (body) => {
      const params = body.params as Record<string, unknown> | undefined;
      return body.method === "tools/call" && params?.inputResponses ? { ...body, params: { ...params, arguments: { env: "prod" } } } : body;
    };
    // Directly, the backend runs such a retry: only the gateway can stop it.
    const direct = await connect(backend.url, { tamper: toProd });
    expect(await direct.client.callTool(deployStaging)).toMatchObject({ content: [{ text: "deployed to prod" }] });
    expect(backend.executed).toEqual([{ kind: "tool", name: "deploy", arguments: { env: "prod" } }]);
    backend.requests.length = 0;
    backend.executed.length = 0;
    rounds.length = 0;

    const via = await connect(gateway.url, { token: tokens.operator, tamper: toProd });
    expect(await settle(via.client.callTool(deployStaging))).toEqual({ error: { code: -32602, message: expect.stringContaining("Unknown tool: deploy") } });
    expect(via.elicitations).toEqual(["Deploy to staging?"]);
    expect(backendCalls(), "only the first round reached the backend").toEqual([{ arguments: { env: "staging" }, inputResponses: undefined, requestState: undefined }]);
    expect(rounds).toEqual([{ env: "staging", confirmed: false }]);
    expect(backend.executed).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ subject: "olivia", tool: "deploy", decision: "denied", reason: expect.stringContaining("not allowed") });
    await Promise.all([direct.client.close(), via.client.close()]);
  });
});

describe("subscriptions/listen (2026-07-28) through the local gateway", () => {
  it.each([
    { user: "operator" as const, uris: [PUBLIC, INTERNAL], notified: INTERNAL },
    { user: "guest" as const, uris: [PUBLIC], notified: PUBLIC },
  ])("opens a listen on allowed URIs ($user) and delivers notifications/resources/updated", async ({ user, uris, notified }) => {
    const via = await connect(gateway.url, { token: tokens[user] });
    const subscription = await via.client.listen({ resourceSubscriptions: uris });
    expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: uris });
    expect(backendMethods()).toContain("subscriptions/listen");
    backend.notify.resourceUpdated(notified);
    await eventually(() => via.updated.length > 0, `notifications/resources/updated for ${notified}`);
    expect(via.updated).toEqual([notified]);
    await subscription.close();
    await via.client.close();
  });

  it("refuses a listen naming a resource the caller may not read with -32602, before the backend sees anything", async () => {
    const guest = await connect(gateway.url, { token: tokens.guest });
    backend.requests.length = 0;
    const outcome = await settle(guest.client.listen({ resourceSubscriptions: [PUBLIC, INTERNAL] }));
    expect(outcome).toEqual({ error: { code: -32602, message: expect.stringContaining(`Unknown resource: ${INTERNAL}`) } });
    expect(backend.requests).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ subject: "gus", mcpMethod: "subscriptions/listen", resource: INTERNAL, decision: "denied" });
    await guest.client.close();
  });
});

describe("subscriptions/listen on the buffered Lambda front door (functions/handler.ts, HTTP API events)", () => {
  let lambdaFetch: FetchLike;
  let restoreEnvironment: () => void = () => undefined;

  beforeAll(async () => {
    const policyFile = join(await mkdtemp(join(tmpdir(), "modern-protocol-lambda-")), "policy.json");
    await writeFile(policyFile, JSON.stringify(POLICY));
    restoreEnvironment = setFunctionEnvironment({ MCP_BACKEND_URL: backend.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, POLICY_FILE: policyFile });
    captureFunctionLogs("mcp-sso-gateway");
    const { handler } = await import("../../functions/handler.js");
    lambdaFetch = bufferedLambdaFetch(handler, (request): APIGatewayProxyEventV2 => httpApiEvent(request, { domainName: LAMBDA_DOMAIN, stage: "$default" }));
  });
  afterAll(() => {
    vi.restoreAllMocks();
    restoreEnvironment();
  });

  it("refuses a listen with -32601 even on allowed URIs, and the backend sees nothing; calls still go through", async () => {
    const operator = await connect(`https://${LAMBDA_DOMAIN}/mcp`, { token: tokens.operator, fetch: lambdaFetch });
    backend.requests.length = 0;
    const outcome = await settle(operator.client.listen({ resourceSubscriptions: [PUBLIC] }));
    expect(outcome).toEqual({ error: { code: -32601, message: expect.stringContaining("subscriptions/listen is not available on this endpoint") } });
    expect(backend.requests).toEqual([]);
    expect(await operator.client.callTool({ name: "echo", arguments: { message: "still here" } })).toMatchObject({ content: [{ text: "still here" }] });
    expect(backendMethods()).toEqual(["tools/call"]);
    await operator.client.close();
  });
});
