/**
 * `mcp-sso-gateway doctor <url>`: checks a deployment as MCP clients meet it, after `cdk deploy` or against `serve`.
 * Without a token: the 401 challenge, the RFC 9728 metadata at every URL clients try, the authorization servers'
 * metadata, CORS for a browser origin. With a token: initialize, tools/list, streaming, latency. One line per check;
 * exit code 0 only when nothing failed (1 otherwise, 2 for a usage error). The checks live in cli/doctor/, one a file.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { isLoopbackUrl } from "../config/loopback.js";
import { checkAuthorizationServer } from "./doctor/authorization-server.js";
import { checkChallenge } from "./doctor/challenge.js";
import { checkCors } from "./doctor/cors.js";
import { initialize } from "./doctor/initialize.js";
import { checkLatency } from "./doctor/latency.js";
import { metadataLocations } from "./doctor/metadata-locations.js";
import { ObservedFetch } from "./doctor/observed-fetch.js";
import { Report } from "./doctor/report.js";
import { checkResourceMetadata } from "./doctor/resource-metadata.js";
import { checkStreaming } from "./doctor/streaming.js";
import { checkToolListing } from "./doctor/tool-listing.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "./usage-error.js";

/** The MCP Inspector's origin: the browser client most people meet first. */
const DEFAULT_ORIGIN = "http://localhost:6274";
const DEFAULT_TIMEOUT_SECONDS = 30;

const HELP = `Usage: mcp-sso-gateway doctor URL [--token TOKEN | --token-file FILE] [options]

Checks the MCP endpoint at URL (the stack's McpEndpointUrl output, or http://localhost:9000/mcp for serve) as MCP
clients meet it, one line per check (ok, warn or fail, what was seen, and for a failure what to do):
  without a token  the 401 challenge (WWW-Authenticate naming resource_metadata); the RFC 9728 metadata at each URL
                   clients try (the challenge's, the well-known URI with the endpoint's path, the one at the host
                   root); each authorization server's metadata; CORS for a browser origin
  with a token     initialize (protocol version, server); tools/list (every page); whether responses stream;
                   latency (the first request, then the median of 5 pings)
Exit code 0 when no check failed (an MCP client could sign in and work), 1 when one did, 2 for a usage error.

  --token TOKEN       an access token for the gateway, as clients send it (Authorization: Bearer)
  --token-file FILE   the token, read from FILE (keeps it out of the shell history and the process list)
  --origin ORIGIN     the browser origin the CORS check asks for (default ${DEFAULT_ORIGIN}, the MCP Inspector's)
  --timeout SECONDS   how long each request may wait for its answer to begin (default ${DEFAULT_TIMEOUT_SECONDS})
A token is sent over https, or over http to this machine only.`;

interface DoctorRequest {
  endpoint: URL;
  token: string | undefined;
  origin: string;
  timeoutMs: number;
}

function parseEndpoint(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`URL must be the MCP endpoint's absolute URL, not ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`URL must be http or https, not ${url.protocol}`);
  return url;
}

function parseOrigin(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  // An origin is scheme, host and port only: what a browser sends in Origin.
  if (!url || url.origin !== raw.replace(/\/$/, "")) throw new UsageError(`--origin must be an origin such as ${DEFAULT_ORIGIN}, not ${JSON.stringify(raw)}`);
  return url.origin;
}

async function readToken(values: { token?: string; "token-file"?: string }): Promise<string | undefined> {
  if (values.token !== undefined && values["token-file"] !== undefined) throw new UsageError("give --token or --token-file, not both");
  const file = values["token-file"];
  const raw = file === undefined ? values.token : await readFile(file, "utf8").catch((err: Error) => Promise.reject(new UsageError(`--token-file ${file}: ${err.message}`)));
  if (raw === undefined) return undefined;
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  if (token === "") throw new UsageError(file === undefined ? "--token must not be empty" : `--token-file ${file} is empty`);
  return token;
}

const OPTIONS = {
  token: { type: "string" },
  "token-file": { type: "string" },
  origin: { type: "string", default: DEFAULT_ORIGIN },
  timeout: { type: "string", default: String(DEFAULT_TIMEOUT_SECONDS) },
  help: { type: "boolean", short: "h" },
} as const;

export async function parseDoctorArgs(args: string[]): Promise<DoctorRequest | undefined> {
  const { values, positionals } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const [raw, ...extra] = positionals;
  if (raw === undefined) throw new UsageError(`doctor needs the MCP endpoint's URL\n\n${HELP}`);
  if (extra.length > 0) throw new UsageError(`doctor takes one URL, not ${positionals.length}`);
  const endpoint = parseEndpoint(raw);
  const token = await readToken(values);
  // A bearer token over plain http can be read on the way; on this machine there is no way.
  if (token !== undefined && endpoint.protocol === "http:" && !isLoopbackUrl(endpoint)) {
    throw new UsageError(`refusing to send the token over plain http to ${endpoint.host}: use the https URL`);
  }
  const seconds = Number(values.timeout);
  if (!/^\d+(\.\d+)?$/.test(values.timeout) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds, not ${JSON.stringify(values.timeout)}`);
  return { endpoint, token, origin: parseOrigin(values.origin), timeoutMs: seconds * 1000 };
}

/** Runs every check against the request's endpoint, printing each line; resolves to the exit code. */
export async function runDoctor(request: DoctorRequest, print: (line: string) => void = console.log): Promise<number> {
  const { endpoint, token } = request;
  const http = new ObservedFetch(request.timeoutMs);
  const report = new Report(print);
  print(`mcp-sso-gateway doctor ${endpoint.href}`);

  const challenge = await checkChallenge(endpoint, http);
  report.add(challenge.finding);
  if (!challenge.reachable) {
    print(report.summary(false));
    return report.exitCode();
  }

  const locations = metadataLocations(endpoint, challenge.namedMetadataUrl);
  const metadata = await checkResourceMetadata(endpoint, locations, challenge.usableMetadataUrl !== undefined, http);
  report.add(...metadata.findings);
  if (challenge.usableMetadataUrl === undefined && !metadata.wellKnownWorks) {
    report.add({ level: "fail", check: "discovery", seen: "no URL clients try without a usable challenge serves the metadata: no MCP client can find where to sign in." });
  }
  for (const server of metadata.authorizationServers) report.add(...(await checkAuthorizationServer(server, http)));
  report.add(await checkCors(endpoint, request.origin, locations[0]?.url, http));

  if (token === undefined) {
    report.add({ level: "warn", check: "signed in", seen: "not checked: give --token or --token-file to check initialize, tools/list, streaming and latency." });
  } else {
    const firstRequestMs = http.exchanges[0]?.ms ?? 0;
    const since = http.exchanges.length;
    const { finding, connection } = await initialize(endpoint, token, http);
    report.add(finding);
    if (connection) {
      try {
        report.add(await checkToolListing(connection.client));
        report.add(await checkStreaming(endpoint, http, since));
        report.add(await checkLatency(connection.client, firstRequestMs));
      } finally {
        await connection.close();
      }
    }
  }
  print(report.summary(token !== undefined));
  return report.exitCode();
}

export async function doctor(args: string[]): Promise<void> {
  const request = await parseDoctorArgs(args);
  if (request) process.exitCode = await runDoctor(request);
}
