/**
 * `npm start` / `mcp-sso-gateway demo`: the enterprise SSO walkthrough on one machine. The demo identity provider (an
 * OpenID Provider on 9100 with a sign-in page for the walkthrough's two users), the walkthrough's echo MCP server on
 * 8000, and the gateway on 9000 enforcing the walkthrough's policy. MCP clients sign in through the gateway's 401
 * challenge; the walkthrough's pasted tokens, `jsmith.token` and `boss.token` (written to the working directory),
 * work too. The multi-server walkthrough runs beside it: a notes MCP server on 8001, and a second gateway on 9001
 * serving the echo and notes servers together (`/mcp`) and each alone (`/mcp/echo`, `/mcp/notes`), with the same
 * sign-in; the walkthrough's own gateway stays exactly as the walkthrough has it.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createJsonLogger } from "../adapters/logger.js";
import { LOCAL_HOSTNAME, type LocalServer } from "../adapters/node-server.js";
import { DEFAULTS } from "../config/env-schema.js";
import { ISSUER_VARIABLES, type IssuerEntry } from "../config/issuers.js";
import { DEMO_USERS, roleClaims } from "../demo/demo-users.js";
import { startEchoServer } from "../demo/echo-server.js";
import { startNotesServer } from "../demo/notes-server.js";
import { SigningKeyFileError, loadOrCreateSigningKey, mintToken } from "../demo/identity-provider.js";
import { knownPort } from "../demo/known-port.js";
import { DEMO_AUDIENCE, DEMO_CLIENTS_PATH, DEMO_IDP_PORT, DEMO_ISSUER, DEMO_KEY_PATH, DEMO_SCOPE, IDP_PORT_VARIABLE } from "./demo-defaults.js";
import { closeOnSignal, portFromEnv, startGatewayServer } from "./serve.js";
import { UsageError } from "./usage-error.js";

const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const MULTI_SERVER_POLICY = fileURLToPath(new URL("../../policies/walkthrough-multi.yaml", import.meta.url));
/** The multi-server gateway's servers, by the names its endpoints and policy use. */
const MULTI_SERVER_NAMES = ["echo", "notes"] as const;
const TEN_YEARS = "10y";
/** The names a client on this machine reaches the gateway by (those it answers to, as it listens on loopback). */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1"];

const HELP = `Usage: mcp-sso-gateway demo

Environment: PORT (gateway, default 9000), ECHO_PORT (default 8000), ${IDP_PORT_VARIABLE} (identity provider, default
${DEMO_IDP_PORT}), POLICY_FILE (default the walkthrough's), MULTI_PORT (the multi-server gateway, default 9001),
NOTES_PORT (the notes server, default 8001). A port of 0 picks a free one.`;

/**
 * The gateway's MCP URL under each name a client may use: the resources the identity provider issues tokens for, and
 * the audiences the gateway accepts from it. With PUBLIC_URL, the gateway names itself by it alone.
 */
function gatewayResources(port: number, env: NodeJS.ProcessEnv, servers: readonly string[] = []): string[] {
  const path = env.MCP_PATH || DEFAULTS.MCP_PATH;
  const paths = [path, ...servers.map((server) => `${path}/${server}`)];
  if (env.PUBLIC_URL && URL.canParse(env.PUBLIC_URL)) return paths.map((p) => `${env.PUBLIC_URL?.replace(/\/+$/, "")}${p}`);
  return LOOPBACK_NAMES.flatMap((name) => paths.map((p) => `http://${name}:${port}${p}`));
}

/** Starts a server, saying which variable to change when its port is taken. */
async function listening<T extends LocalServer>(variable: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    throw new UsageError(`port ${port} is in use (another 'npm start' running?): stop it, or set ${variable} to a free port (0 picks one)`);
  }
}

export async function demo(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return;
  }
  const hostname = process.env.HOST || LOCAL_HOSTNAME;
  const gatewayPort = await knownPort(portFromEnv("PORT", 9000), hostname);
  const multiPort = await knownPort(portFromEnv("MULTI_PORT", 9001), hostname);
  const echoPort = portFromEnv("ECHO_PORT", 8000);
  const notesPort = portFromEnv("NOTES_PORT", 8001);
  const idpPort = portFromEnv(IDP_PORT_VARIABLE, DEMO_IDP_PORT);
  const resources = [...gatewayResources(gatewayPort, process.env, ["backend"]), ...gatewayResources(multiPort, { ...process.env, PUBLIC_URL: undefined }, MULTI_SERVER_NAMES)];
  // Loaded once the demo runs, not for --help: oidc-provider prints a notice when loaded on Node.js below 22.
  const { startOpenIdProvider } = await import("../demo/openid-provider.js");

  // 1. The identity provider: a key pair and the registered clients, kept in the working directory, and the OpenID
  //    Provider signing with that key.
  const key = await loadOrCreateSigningKey(DEMO_KEY_PATH).catch((err: unknown) => {
    throw err instanceof SigningKeyFileError ? new UsageError(`${err.message}: move it away, and the demo creates a new key`) : err;
  });
  const idp = await listening(IDP_PORT_VARIABLE, idpPort, () =>
    startOpenIdProvider({ port: idpPort, key, users: DEMO_USERS, resources, scope: DEMO_SCOPE, clientsFile: DEMO_CLIENTS_PATH }),
  );

  // 2. The walkthrough's pasted tokens, signed with the same key.
  for (const user of DEMO_USERS) {
    const jwt = await mintToken(key, { issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, subject: user.subject, claims: roleClaims(user), expiresIn: TEN_YEARS });
    await writeFile(user.tokenFile, `${jwt}\n`);
  }

  // 3. The backend, and the gateway in front of it, configured exactly as `serve` and the Lambda are: trusting the
  //    walkthrough's issuer (pasted tokens) and the OpenID Provider (signed-in clients), both checked with its keys.
  const issuers: IssuerEntry[] = [
    { issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, jwksUri: idp.jwksUri },
    // Its access tokens are typed at+jwt (RFC 9068): requiring it keeps its ID tokens out whatever their audience.
    { issuer: idp.issuer, audience: resources, jwksUri: idp.jwksUri, requireAtJwt: true, requiredScopes: [DEMO_SCOPE] },
  ];
  const echo = await listening("ECHO_PORT", echoPort, () => startEchoServer(echoPort));
  const policyFile = process.env.POLICY_FILE || WALKTHROUGH_POLICY;
  const { server, config } = await startGatewayServer(createJsonLogger(), { port: gatewayPort, hostname }, {
    ...process.env,
    ...Object.fromEntries(ISSUER_VARIABLES.map((name) => [name, undefined])),
    JWT_ISSUERS: JSON.stringify(issuers),
    MCP_BACKEND_URL: `${echo.url}/mcp`,
    POLICY_FILE: policyFile,
    POLICY_SSM_PATH: undefined,
    POLICY_CACHE_SECONDS: process.env.POLICY_CACHE_SECONDS || "2",
  });
  const gatewayUrl = `${server.url.replace("127.0.0.1", "localhost")}${config.mcpPath}`;

  // 4. The multi-server walkthrough: the notes server, and a gateway serving it and the echo server together.
  const notes = await listening("NOTES_PORT", notesPort, () => startNotesServer(notesPort));
  const multi = await listening("MULTI_PORT", multiPort, () =>
    startGatewayServer(createJsonLogger(), { port: multiPort, hostname }, {
      ...process.env,
      ...Object.fromEntries(ISSUER_VARIABLES.map((name) => [name, undefined])),
      JWT_ISSUERS: JSON.stringify(issuers),
      MCP_BACKEND_URL: undefined,
      MCP_BACKENDS: JSON.stringify([
        { name: "echo", url: `${echo.url}/mcp` },
        { name: "notes", url: `${notes.url}/mcp` },
      ]),
      PUBLIC_URL: undefined,
      POLICY_FILE: MULTI_SERVER_POLICY,
      POLICY_SSM_PATH: undefined,
      POLICY_CACHE_SECONDS: process.env.POLICY_CACHE_SECONDS || "2",
    }).then((started) => started.server),
  );
  const multiUrl = `${multi.url.replace("127.0.0.1", "localhost")}${config.mcpPath}`;
  closeOnSignal([server, multi, echo, notes, idp]);

  const inspector = `npx @modelcontextprotocol/inspector --cli ${gatewayUrl} --transport http`;
  const [jsmith, boss] = DEMO_USERS;
  console.log(`
mcp-sso-gateway demo: the enterprise SSO walkthrough is running.

  identity provider  ${idp.issuer}  (OpenID Provider: sign-in page, client registration, keys at ${idp.jwksUri})
  echo MCP server    ${echo.url}/mcp
  gateway            ${gatewayUrl}  (policy ${policyFile}, re-read every ${config.policyCacheSeconds} s)

Sign in: point an MCP client at ${gatewayUrl}. The gateway's 401 sends it to the identity provider, where you pick
${jsmith?.subject} (no roles: echo is hidden) or ${boss?.subject} (roles ["admin"]: echo is listed and runs).
  MCP Inspector UI (needs Node.js 22 or newer): npx @modelcontextprotocol/inspector
      choose Streamable HTTP, URL ${gatewayUrl}, Connect; sign in on the page that opens
  MCP Inspector CLI, in a terminal: ${inspector} --method tools/list
      opens the sign-in page in your browser; add --relogin to sign in again as the other user

Or paste a token: ${DEMO_USERS.map((u) => u.tokenFile).join(" and ")} were written here (issuer ${DEMO_ISSUER}, audience ${DEMO_AUDIENCE}).
  ${inspector} --method tools/list --header "Authorization: Bearer $(cat ${jsmith?.tokenFile})"
      -> { "tools": [] }
  ${inspector} --method tools/call --tool-name echo --tool-arg message=hello --header "Authorization: Bearer $(cat ${boss?.tokenFile})"
      -> echo runs for the boss: "hello"
More tokens (in this directory, while the demo runs): npx mcp-sso-gateway token --sub alice --claim 'roles=["admin"]'

Several servers behind one gateway (the multi-server walkthrough, policy policies/walkthrough-multi.yaml):
  notes MCP server   ${notes.url}/mcp
  gateway            ${multiUrl}  (echo and notes together: tools echo_echo, notes_list_notes, notes_add_note)
                     ${multiUrl}/echo and ${multiUrl}/notes  (each server alone, its own names)
  npx @modelcontextprotocol/inspector --cli ${multiUrl} --transport http --method tools/list --header "Authorization: Bearer $(cat ${jsmith?.tokenFile})"
      -> notes_list_notes only (echo is the boss's; adding notes too)

Authentication only (walkthrough step 3): POLICY_FILE=policies/allow-all.yaml npm start
One JSON access-log line per request follows (refusals and failures, logged as warnings and errors, on stderr).
Ctrl+C stops.
`);
}
