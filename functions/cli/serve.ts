/** `mcp-sso-gateway serve`: the gateway alone, on PORT (default 9000), configured like the Lambda function. */
import { createJsonLogger } from "../adapters/logger.js";
import { LOCAL_HOSTNAME, serveGateway, type LocalServer } from "../adapters/node-server.js";
import { loadConfigFromEnv, type GatewayConfig } from "../config/gateway-config.js";
import { withLoopbackHostDefault } from "../config/loopback.js";
import { createGatewayFromConfig } from "../core/create-gateway-from-config.js";
import type { GatewayOptions } from "../core/gateway.js";
import type { GatewayLogger } from "../logging.js";
import { UsageError } from "./usage-error.js";

const HELP = `Usage: mcp-sso-gateway serve

Runs the gateway on http://HOST:PORT<MCP_PATH>. Settings come from environment variables:
  MCP_BACKEND_URL       backend MCP server endpoint (required)
  JWT_ISSUER            expected token issuer (required)
  JWT_AUDIENCE          accepted audiences, comma-separated (required)
  JWKS_URI              issuer's JWKS (https; http only on loopback)
  POLICY_FILE | POLICY_SSM_PATH   where the authorization policy lives (one is required)
  ROLES_CLAIM           claim holding the caller's roles (default roles)
  POLICY_CACHE_SECONDS, BACKEND_TIMEOUT_MS, MCP_PATH, PUBLIC_URL, AUTHORIZATION_SERVERS, MAX_BODY_BYTES
  CORS_ALLOWED_ORIGINS, ALLOWED_HOSTS   browser origins and Host names let in (others: 403)
  PORT                  listening port (default 9000)
  HOST                  listening address (default 127.0.0.1; on loopback, ALLOWED_HOSTS defaults to this machine's names)`;

/** Parses PORT; a bad value is refused with a message naming it. */
export function portFromEnv(name: string, fallback: number, env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new UsageError(`${name} must be a port number from 0 to 65535, not ${JSON.stringify(raw)}`);
  return port;
}

/** Closes the servers on Ctrl+C or SIGTERM. */
export function closeOnSignal(servers: LocalServer[]): void {
  const stop = () => {
    void Promise.all(servers.map((s) => s.close())).finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/**
 * The gateway configured from environment variables (`env`, default the process's), warmed up and listening: what
 * `serve` runs, without its log line, and what the demo runs. On a loopback address it answers to this machine's
 * names only, unless ALLOWED_HOSTS says otherwise.
 */
export async function startGatewayServer(
  logger: GatewayLogger,
  listen: { port: number; hostname?: string },
  env: Record<string, string | undefined> = process.env,
  options: GatewayOptions = {},
): Promise<{ server: LocalServer; config: GatewayConfig }> {
  const config = withLoopbackHostDefault(loadConfigFromEnv(env), listen.hostname ?? LOCAL_HOSTNAME);
  const gateway = createGatewayFromConfig(config, logger, options);
  await gateway.warmUp();
  return { server: await serveGateway(gateway, listen), config };
}

export async function serve(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return;
  }
  if (args.length > 0) throw new UsageError(`serve takes no arguments (settings are environment variables)\n\n${HELP}`);
  const port = portFromEnv("PORT", 9000);
  const logger = createJsonLogger();
  const { server, config } = await startGatewayServer(logger, { port, hostname: process.env.HOST || LOCAL_HOSTNAME });
  logger.info("gateway listening", { url: `${server.url}${config.mcpPath}`, backend: config.backendUrl.href });
  closeOnSignal([server]);
}
