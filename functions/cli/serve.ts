/** `mcp-sso-gateway serve`: the gateway alone, on PORT (default 9000), configured like the Lambda function. */
import { createJsonLogger } from "../adapters/logger.js";
import { LOCAL_HOSTNAME, serveGateway, type LocalServer } from "../adapters/node-server.js";
import { loadConfigFromEnv, type GatewayConfig } from "../config/gateway-config.js";
import { withLoopbackHostDefault } from "../config/loopback.js";
import { unknownSettings } from "../config/unknown-variables.js";
import { createGatewayFromConfig } from "../core/create-gateway-from-config.js";
import type { Gateway, GatewayOptions } from "../core/gateway.js";
import type { GatewayLogger } from "../logging.js";
import { CommandFailure } from "./command-failure.js";
import { servingProblems } from "./serve-checks.js";
import { UsageError } from "./usage-error.js";

const HELP = `Usage: mcp-sso-gateway serve

Runs the gateway on http://HOST:PORT<MCP_PATH>. Settings come from environment variables:
  MCP_BACKEND_URL       backend MCP server endpoint (required)
  JWT_ISSUER            expected token issuer (required)
  JWT_AUDIENCE          accepted audiences, comma-separated (required)
  JWKS_URI              issuer's JWKS (https; http only on loopback)
  POLICY_FILE | POLICY_SSM_PATH   where the authorization policy lives (one is required)
  ROLES_CLAIM           claim holding the caller's roles (default roles)
  JWT_REQUIRE_SUB       false to accept tokens without a sub claim (default true)
  POLICY_CACHE_SECONDS, BACKEND_TIMEOUT_MS, MCP_PATH, PUBLIC_URL, AUTHORIZATION_SERVERS, MAX_BODY_BYTES
  CORS_ALLOWED_ORIGINS, ALLOWED_HOSTS   browser origins and Host names let in (others: 403)
  PORT                  listening port (default 9000)
  HOST                  listening address (default 127.0.0.1; on loopback, ALLOWED_HOSTS defaults to this machine's names)
Before listening it loads the policy, fetches every issuer's signing keys and reads the values kept in SSM or Secrets
Manager; if one fails it does not start (exit code 1) and says which and why.`;

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

/** What to do about the usual reasons a server cannot listen, by error code. */
const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: "another process is listening there; set PORT to a free port (0 picks one)",
  EACCES: "this user may not listen there (ports below 1024 need privileges); set PORT to a higher port",
  EADDRNOTAVAIL: "HOST is not an address of this machine",
  ENOTFOUND: "HOST is not a host name or address this machine knows",
  EAI_AGAIN: "HOST could not be looked up",
};

/** Listens, turning the usual refusals (port taken, address not ours) into one line that says what to change. */
async function listenOn(gateway: Gateway, where: { port: number; hostname?: string }): Promise<LocalServer> {
  try {
    return await serveGateway(gateway, where);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === undefined ? undefined : LISTEN_HINTS[code];
    if (hint === undefined) throw err;
    throw new CommandFailure(`cannot listen on ${where.hostname ?? LOCAL_HOSTNAME}:${where.port}: ${(err as Error).message}; ${hint}`, { cause: err });
  }
}

/** The gateway for a configuration, warmed up and listening (see startGatewayServer). */
async function startConfiguredGateway(
  config: GatewayConfig,
  logger: GatewayLogger,
  where: { port: number; hostname?: string },
  options: GatewayOptions,
): Promise<{ server: LocalServer; config: GatewayConfig }> {
  const served = withLoopbackHostDefault(config, where.hostname ?? LOCAL_HOSTNAME);
  const gateway = createGatewayFromConfig(served, logger, options);
  await gateway.warmUp();
  return { server: await listenOn(gateway, where), config: served };
}

/**
 * The gateway configured from environment variables (`env`, default the process's), warmed up and listening: what
 * `serve` runs, without its checks and log line, and what the demo runs. On a loopback address it answers to this
 * machine's names only, unless ALLOWED_HOSTS says otherwise. Like the Lambda function, it starts whether or not its
 * policy and keys can be had, and answers 503 until they can.
 */
export async function startGatewayServer(
  logger: GatewayLogger,
  listen: { port: number; hostname?: string },
  env: Record<string, string | undefined> = process.env,
  options: GatewayOptions = {},
): Promise<{ server: LocalServer; config: GatewayConfig }> {
  return startConfiguredGateway(loadConfigFromEnv(env), logger, listen, options);
}

export async function serve(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return;
  }
  if (args.length > 0) throw new UsageError(`serve takes no arguments (settings are environment variables)\n\n${HELP}`);
  // Said before the configuration is checked: a misspelt name is often why a setting is reported missing.
  for (const { name, suggestion } of unknownSettings(process.env)) {
    console.error(`warning: ${name} is not a setting of the gateway and is ignored${suggestion ? `; did you mean ${suggestion}?` : ""}`);
  }
  const port = portFromEnv("PORT", 9000);
  const config = loadConfigFromEnv(process.env);
  // Started by hand, a gateway that could only answer 503 is a mistake to report now, not on every request.
  const problems = await servingProblems(config);
  if (problems.length > 0) {
    throw new CommandFailure(`mcp-sso-gateway serve: not started, as it could answer every request only with an error:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  const logger = createJsonLogger();
  const { server, config: served } = await startConfiguredGateway(config, logger, { port, hostname: process.env.HOST || LOCAL_HOSTNAME }, {});
  logger.info("gateway listening", { url: `${server.url}${served.mcpPath}`, backends: Object.fromEntries(served.backends.map((b) => [b.name, b.url.href])) });
  closeOnSignal([server]);
}
