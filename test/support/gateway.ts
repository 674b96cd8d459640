/**
 * Starts the real gateway (configuration from environment-style settings, local adapter, started as `serve` starts
 * it) and collects its log lines.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startGatewayServer } from "../../functions/cli/serve.js";
import type { GatewayOptions } from "../../functions/core/gateway.js";
import type { GatewayLogger } from "../../functions/logging.js";
import { AUDIENCE, ISSUER } from "./identity-provider.js";

export interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

export class CollectingLogger implements GatewayLogger {
  readonly lines: LogLine[] = [];
  info(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: "error", message, fields });
  }
  /** Access-log lines only (those carrying an HTTP status). */
  requests(): Record<string, unknown>[] {
    return this.lines.filter((line) => "status" in line.fields).map((line) => ({ message: line.message, ...line.fields }));
  }
  last(): Record<string, unknown> {
    const requests = this.requests();
    return requests[requests.length - 1] ?? {};
  }
}

export interface TestGateway {
  /** The gateway's MCP endpoint. */
  url: string;
  origin: string;
  logger: CollectingLogger;
  close(): Promise<void>;
}

export async function startGateway(env: Record<string, string | undefined>, options: GatewayOptions = {}): Promise<TestGateway> {
  const logger = new CollectingLogger();
  const { server, config } = await startGatewayServer(logger, { port: 0 }, env, options);
  return { url: `${server.url}${config.mcpPath}`, origin: server.url, logger, close: () => server.close() };
}

/** An MCP SDK client connected through `url`, with a static bearer token when given. */
export async function connectClient(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: "test-client", version: "1.0.0" });
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
} as const;

/** A raw JSON-RPC POST, for request shapes the SDK client would never send. */
export async function postRaw(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
} as const;

/** The example policies shipped in policies/. */
export const POLICIES = {
  walkthrough: fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url)),
  allowAll: fileURLToPath(new URL("../../policies/allow-all.yaml", import.meta.url)),
} as const;

/**
 * Gateway settings for several backend servers (`MCP_BACKENDS`, entries as given: a name and URL, and any option of
 * an entry), the test identity provider (walkthrough issuer and audience) and a policy file, plus extras.
 */
export function multiServerSettings(
  idp: { jwksUri: string },
  servers: ReadonlyArray<{ name: string; url: string } & Record<string, unknown>>,
  policyFile: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { MCP_BACKENDS: JSON.stringify(servers), JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, POLICY_FILE: policyFile, ...extra };
}

/** Writes a policy document into a fresh temporary directory and returns its path. */
export async function writeTempPolicy(text: string, prefix = "policy-"): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), prefix)), "policy.yaml");
  await writeFile(file, text);
  return file;
}

/** Gateway settings for the test identity provider (walkthrough issuer and audience) and a backend, plus extras. */
export function gatewaySettings(idp: { jwksUri: string }, backendUrl: string, extra: Record<string, string>): Record<string, string> {
  return { MCP_BACKEND_URL: backendUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, ...extra };
}
