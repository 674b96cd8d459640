/**
 * The stage every server-to-client test file sets up, whatever its front door: a real identity provider, the
 * interactive backend (interactive-backend.ts) behind the interactive policy, the front door between them, a token
 * for a caller with the role and one for a caller without it, and the clients each test opens, closed after it.
 * A test file says only how to open its front door; the local server's is here, the Lambda front doors share the
 * loading of their entry point (environment, log capture) from here.
 */
import type { Context } from "aws-lambda";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterAll, afterEach, beforeAll, vi } from "vitest";
import { setFunctionEnvironment } from "./function-environment.js";
import { captureFunctionLogs, type FunctionLogs } from "./function-logs.js";
import { gatewaySettings, startGateway } from "./gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "./identity-provider.js";
import {
  INTERACTIVE_ROLE,
  startInteractiveBackend,
  writeInteractivePolicy,
  type InteractiveBackend,
  type Sent,
} from "./interactive-backend.js";
import { connectInteractiveClient, type InteractiveClient } from "./interactive-client.js";

/** A front door opened in front of the backend. */
export interface OpenedFrontDoor {
  /** The MCP endpoint, as the client addresses it. */
  url: string;
  /** How the client's requests reach the front door when not over the network (a Lambda entry point). */
  fetch?: FetchLike;
  /** The access-log lines the gateway wrote for requests through this front door, in order. */
  accessLog(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** How to open a front door in front of `backend`, judging by the policy in `policyFile`. */
export type FrontDoor<T extends OpenedFrontDoor = OpenedFrontDoor> = (
  idp: TestIdentityProvider,
  backend: InteractiveBackend,
  policyFile: string,
) => Promise<T>;

/** What the tests use; filled in before the first test. */
export interface Stage<T extends OpenedFrontDoor = OpenedFrontDoor> {
  idp: TestIdentityProvider;
  backend: InteractiveBackend;
  door: T;
  /** A token for "ada", who holds INTERACTIVE_ROLE. */
  ada: string;
  /** A token for "mallory", who does not. */
  outsider: string;
  /** A client through the front door (as ada unless told otherwise), closed after the test. */
  connect(token?: string): Promise<InteractiveClient>;
  /** What the backend sent during one tool's calls, from the index `from` of its record on. */
  sentBy(tool: string, from?: number): Sent[];
}

/** Registers the hooks that set the stage up around the tests of the calling file, and tear it down. */
export function useFrontDoor<T extends OpenedFrontDoor>(open: FrontDoor<T>): Stage<T> {
  const clients: InteractiveClient[] = [];
  const stage = {
    async connect(token?: string) {
      const client = await connectInteractiveClient(stage.door.url, token ?? stage.ada, { fetch: stage.door.fetch });
      clients.push(client);
      return client;
    },
    sentBy: (tool: string, from = 0) => stage.backend.sent.slice(from).filter((message) => message.tool === tool),
  } as Stage<T>;

  beforeAll(async () => {
    [stage.idp, stage.backend] = await Promise.all([startIdentityProvider(), startInteractiveBackend()]);
    stage.door = await open(stage.idp, stage.backend, writeInteractivePolicy());
    [stage.ada, stage.outsider] = await Promise.all([
      stage.idp.token({ subject: "ada", claims: { roles: [INTERACTIVE_ROLE] }, expiresIn: "1h" }),
      stage.idp.token({ subject: "mallory", claims: { roles: ["guest"] }, expiresIn: "1h" }),
    ]);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await stage.door?.close();
    await stage.backend?.close();
    await stage.idp?.close();
  });
  return stage;
}

/** The local server (the node adapter), over loopback HTTP. */
export const localServer: FrontDoor = async (idp, backend, policyFile) => {
  const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
  return { url: gateway.url, accessLog: () => gateway.logger.requests(), close: () => gateway.close() };
};

/** A Lambda entry point loaded for the backend and the policy: its environment set, its log lines captured. */
export interface LambdaFunction<M> {
  module: M;
  logs: FunctionLogs;
  /** For a Lambda fetch (lambda-fetch.ts): notes each invocation, so that its log lines count as this door's. */
  onInvoke(context: Context): void;
  /** The front door at `url`, reached through `fetch`; closing it restores the environment and stops the capture. */
  frontDoor(url: string, fetch: FetchLike, onClose?: () => void): OpenedFrontDoor;
}

export async function loadLambdaFunction<M>(
  idp: TestIdentityProvider,
  backend: InteractiveBackend,
  policyFile: string,
  load: () => Promise<M>,
): Promise<LambdaFunction<M>> {
  const restoreEnvironment = setFunctionEnvironment({
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: policyFile,
  });
  const logs = captureFunctionLogs("mcp-sso-gateway");
  const module = await load();
  const invocations = new Set<string>();
  return {
    module,
    logs,
    onInvoke: (context) => void invocations.add(context.awsRequestId),
    frontDoor: (url, fetch, onClose = () => undefined) => ({
      url,
      fetch,
      accessLog: () => logs.lines.filter((line) => invocations.has(line.function_request_id as string) && "status" in line),
      async close() {
        vi.restoreAllMocks();
        restoreEnvironment();
        onClose();
      },
    }),
  };
}
