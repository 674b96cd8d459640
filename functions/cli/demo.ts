/**
 * `npm start` / `mcp-sso-gateway demo`: the enterprise SSO walkthrough on one machine. A demo identity provider
 * (key pair + JWKS over HTTP), the walkthrough's echo MCP server on 8000, and the gateway on 9000 enforcing the
 * walkthrough's policy; `jsmith.token` and `boss.token` are written to the working directory.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createJsonLogger } from "../adapters/logger.js";
import { LOCAL_HOSTNAME } from "../adapters/node-server.js";
import { startEchoServer } from "../demo/echo-server.js";
import { JWKS_PATH, loadOrCreateSigningKey, mintToken, publicJwk, serveJwks } from "../demo/identity-provider.js";
import { DEMO_AUDIENCE, DEMO_ISSUER, DEMO_KEY_PATH } from "./demo-defaults.js";
import { closeOnSignal, portFromEnv, startGatewayServer } from "./serve.js";

const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const TEN_YEARS = "10y";

export async function demo(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log("Usage: mcp-sso-gateway demo\n\nEnvironment: PORT (gateway, default 9000), ECHO_PORT (default 8000), POLICY_FILE (default the walkthrough's).");
    return;
  }
  const gatewayPort = portFromEnv("PORT", 9000);
  const echoPort = portFromEnv("ECHO_PORT", 8000);

  // 1. The identity provider: a key pair, its public half published as a JWKS.
  const key = await loadOrCreateSigningKey(DEMO_KEY_PATH);
  const idp = await serveJwks(() => [publicJwk(key)]);

  // 2. The walkthrough's tokens.
  const tokens = {
    "jsmith.token": await mintToken(key, { issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, subject: "jsmith", expiresIn: TEN_YEARS }),
    "boss.token": await mintToken(key, {
      issuer: DEMO_ISSUER,
      audience: DEMO_AUDIENCE,
      subject: "pointy-haired-boss",
      claims: { roles: ["admin"] },
      expiresIn: TEN_YEARS,
    }),
  };
  for (const [file, jwt] of Object.entries(tokens)) await writeFile(file, `${jwt}\n`);

  // 3. The backend, and the gateway in front of it, configured exactly as `serve` and the Lambda are.
  const echo = await startEchoServer(echoPort);
  const policyFile = process.env.POLICY_FILE || WALKTHROUGH_POLICY;
  const { server, config } = await startGatewayServer(createJsonLogger(), { port: gatewayPort, hostname: process.env.HOST || LOCAL_HOSTNAME }, {
    ...process.env,
    MCP_BACKEND_URL: `${echo.url}/mcp`,
    JWT_ISSUER: DEMO_ISSUER,
    JWT_AUDIENCE: DEMO_AUDIENCE,
    JWKS_URI: `${idp.url}${JWKS_PATH}`,
    POLICY_FILE: policyFile,
    POLICY_SSM_PATH: undefined,
    POLICY_CACHE_SECONDS: process.env.POLICY_CACHE_SECONDS || "2",
  });
  const gatewayUrl = `${server.url.replace("127.0.0.1", "localhost")}${config.mcpPath}`;
  closeOnSignal([server, echo, idp]);

  const inspector = `npx @modelcontextprotocol/inspector --cli ${gatewayUrl} --transport http`;
  console.log(`
mcp-sso-gateway demo: the enterprise SSO walkthrough is running.

  identity provider  ${idp.url}${JWKS_PATH}  (issuer ${DEMO_ISSUER}, audience ${DEMO_AUDIENCE})
  echo MCP server    ${echo.url}/mcp
  gateway            ${gatewayUrl}  (policy ${policyFile}, re-read every ${config.policyCacheSeconds} s)

Tokens written here: jsmith.token (sub jsmith, no roles), boss.token (sub pointy-haired-boss, roles ["admin"]).
More tokens: npx mcp-sso-gateway token --sub alice --claim 'roles=["admin"]'

Try it with the MCP Inspector (needs Node.js 22 or newer):
  ${inspector} --method tools/list
      -> refused: 401, no bearer token
  ${inspector} --method tools/list --header "Authorization: Bearer $(cat jsmith.token)"
      -> connects, but echo is not listed (jsmith has no admin role)
  ${inspector} --method tools/list --header "Authorization: Bearer $(cat boss.token)"
  ${inspector} --method tools/call --tool-name echo --tool-arg message=hello --header "Authorization: Bearer $(cat boss.token)"
      -> echo is listed and runs for the boss
Or open the Inspector UI (npx @modelcontextprotocol/inspector), choose Streamable HTTP, URL ${gatewayUrl},
and add the header Authorization: Bearer <token>.

Authentication only (walkthrough step 3): POLICY_FILE=policies/allow-all.yaml npm start
One JSON access-log line per request follows (refusals and failures, logged as warnings and errors, on stderr).
Ctrl+C stops.
`);
}
