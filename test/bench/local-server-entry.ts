/**
 * The entry the throughput benchmark's local-server bundle is built from (bundles.ts, with the Lambda function's
 * esbuild options): what `mcp-sso-gateway serve` runs (functions/cli/serve.ts), configured by environment variables,
 * on a free port, without the command's signal handling and start-up log line.
 */
import { createJsonLogger } from "../../functions/adapters/logger.js";
import type { LocalServer } from "../../functions/adapters/node-server.js";
import { startGatewayServer } from "../../functions/cli/serve.js";

export async function startLocalGateway(): Promise<LocalServer> {
  return (await startGatewayServer(createJsonLogger(), { port: 0 })).server;
}
