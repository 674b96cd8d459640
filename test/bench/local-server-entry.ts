/**
 * The entry the throughput benchmark's local-server bundle is built from (bundles.ts, with the Lambda function's
 * esbuild options): what `mcp-sso-gateway serve` does (functions/cli/serve.ts), configured by environment variables
 * through loadConfigFromEnv + createGatewayFromConfig, served by the local adapter (functions/adapters/node-server.ts),
 * as a function the benchmark calls, on a free port, without the command's signal handling and start-up log line.
 */
import { createJsonLogger } from "../../functions/adapters/logger.js";
import { serveGateway, type LocalServer } from "../../functions/adapters/node-server.js";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { createGatewayFromConfig } from "../../functions/core/create-gateway-from-config.js";

export async function startLocalGateway(): Promise<LocalServer> {
  const gateway = createGatewayFromConfig(loadConfigFromEnv(), createJsonLogger());
  await gateway.warmUp();
  return serveGateway(gateway, { port: 0 });
}
