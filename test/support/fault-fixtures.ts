/**
 * What the fault tests (test/e2e/backend-faults.test.ts, test/e2e/dependency-faults.test.ts) share: the walkthrough's
 * policy, the errors a refused request gets, the file's set-up (the identity provider and the two people who sign in,
 * gateways closed with the rest), and small functions to see what a client is shown or allowed.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll } from "vitest";
import { startGateway, type TestGateway } from "./gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "./identity-provider.js";

/** The walkthrough's policy: echo for the admin role, nothing else for anyone. */
export const WALKTHROUGH = `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'\n`;
export const UNAVAILABLE_POLICY = { code: -32002, message: "Service unavailable: no authorization policy is loaded" };
export const UNAVAILABLE_KEYS = { code: -32002, message: "Service unavailable: the identity provider's signing keys could not be fetched" };
export const REFUSED_ECHO = "MCP error -32602: Unknown tool: echo";

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tokens for the two people of the walkthrough, signed by `idp`. */
async function signIn(idp: TestIdentityProvider): Promise<{ jsmith: string; boss: string }> {
  return {
    jsmith: await idp.token({ subject: "jsmith" }),
    boss: await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] } }),
  };
}

/** Servers, gateways and clients a test file opened, to be closed when its tests are done. */
export type Closers = Array<{ close(): Promise<void> }>;

/** Closes everything in `closers`, the last opened first. */
async function closeAll(closers: Closers): Promise<void> {
  for (const closer of closers.reverse()) await closer.close();
}

/** Starts a gateway and adds it to `closers`. */
async function startGatewayIn(closers: Closers, env: Record<string, string>): Promise<TestGateway> {
  const gateway = await startGateway(env);
  closers.push(gateway);
  return gateway;
}

/** What a fault test file runs against: set before its tests, closed after them. */
export interface FaultWorld {
  idp: TestIdentityProvider;
  /** No roles: may not use echo. */
  jsmith: string;
  /** The admin role: may use echo. */
  boss: string;
  /** Everything the file opened, closed when its tests are done. */
  closers: Closers;
  /** Starts a gateway that is closed with the rest. */
  gatewayWith(env: Record<string, string>): Promise<TestGateway>;
}

/** Registers the file's set-up (identity provider, both people signed in) and tear-down; call at the top level. */
export function useFaultWorld(): FaultWorld {
  const closers: Closers = [];
  const world = { closers, gatewayWith: (env: Record<string, string>) => startGatewayIn(closers, env) } as FaultWorld;
  beforeAll(async () => {
    world.idp = await startIdentityProvider();
    closers.push(world.idp);
    Object.assign(world, await signIn(world.idp));
  });
  afterAll(() => closeAll(closers));
  return world;
}

/** The tools a client is shown, or the error it gets. */
export async function toolsSeen(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

/** Calls echo; resolves to "ran" or to the JSON-RPC error the client got. */
export async function callEcho(client: Client): Promise<string> {
  try {
    await client.callTool({ name: "echo", arguments: { message: "hi" } });
    return "ran";
  } catch (err) {
    return (err as Error).message;
  }
}
