/**
 * Check 3, without a token: each authorization server the metadata names must publish its metadata where clients look,
 * with what a client needs to sign in. The MCP SDK's discoverAuthorizationServerMetadata tries the URLs of MCP
 * 2025-11-25 (Authorization Server Metadata Discovery: RFC 8414 with the issuer's path inserted, then OpenID
 * discovery inserted and appended; its buildDiscoveryUrls lists them), so doctor reads what an SDK client reads, and
 * the record of the requests tells which URL answered. MCP 2025-06-18 clients use RFC 8414 only.
 */
import { buildDiscoveryUrls, discoverAuthorizationServerMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import { describeAnswer, type ObservedFetch } from "./observed-fetch.js";
import { errorLine, type Finding } from "./report.js";

/** The flow MCP clients use (OAuth 2.1 authorization code with PKCE S256). */
const CODE_FLOW = "code";
const PKCE_METHOD = "S256";

/** How clients without a client id for this server can get one. */
function registration(metadata: { registration_endpoint?: string; client_id_metadata_document_supported?: boolean }): string {
  const ways = [
    ...(metadata.client_id_metadata_document_supported === true ? ["client ID metadata documents"] : []),
    ...(metadata.registration_endpoint ? [`dynamic registration at ${metadata.registration_endpoint}`] : []),
  ];
  return ways.length > 0 ? `registration: ${ways.join(", ")}` : "no registration endpoint: clients need a client id registered for them";
}

export async function checkAuthorizationServer(server: string, http: ObservedFetch): Promise<Finding[]> {
  const check = `authorization server ${server}`;
  const fix = "set AUTHORIZATION_SERVERS to the identity provider's issuer URL; it must publish RFC 8414 or OpenID discovery metadata.";
  let tried: ReturnType<typeof buildDiscoveryUrls>;
  try {
    tried = buildDiscoveryUrls(server);
  } catch (error) {
    return [{ level: "fail", check, seen: `not a URL clients can use (${errorLine(error)}).`, fix }];
  }
  let metadata: Awaited<ReturnType<typeof discoverAuthorizationServerMetadata>>;
  try {
    metadata = await discoverAuthorizationServerMetadata(server, { fetchFn: http.fetch });
  } catch (error) {
    return [{ level: "fail", check, seen: `its metadata cannot be used: ${errorLine(error)}.`, fix }];
  }
  const answers = tried.map((entry) => ({ ...entry, answer: http.last(entry.url, "GET") }));
  const describeTried = (list: typeof answers) => list.map((entry) => `${entry.url.href} (${describeAnswer(entry.answer)})`).join(", ");
  if (!metadata) {
    return [{ level: "fail", check, seen: `no metadata at ${describeTried(answers)}: clients cannot find its authorization and token endpoints.`, fix }];
  }
  const found = answers.find((entry) => entry.answer?.status !== undefined && entry.answer.status < 300);
  const where = found ? `${found.type === "oauth" ? "RFC 8414 metadata" : "OpenID discovery"} at ${found.url.href}` : "metadata";

  const failures: string[] = [];
  if (metadata.issuer !== server) failures.push(`its issuer is ${metadata.issuer}, not ${server}: clients that check it (RFC 8414 §3.3) refuse the metadata`);
  if (!metadata.response_types_supported.includes(CODE_FLOW)) failures.push(`it does not offer the authorization code flow (response_types_supported: ${metadata.response_types_supported.join(", ")})`);
  const pkce = metadata.code_challenge_methods_supported;
  if (pkce && !pkce.includes(PKCE_METHOD)) failures.push(`it does not offer PKCE ${PKCE_METHOD} (code_challenge_methods_supported: ${pkce.join(", ")}), which MCP clients require`);
  if (failures.length > 0) return [{ level: "fail", check, seen: `${where}: ${failures.join("; ")}.`, fix }];

  const findings: Finding[] = [
    {
      level: "ok",
      check,
      seen: `${where}: authorization endpoint ${metadata.authorization_endpoint}, token endpoint ${metadata.token_endpoint}, ${registration(metadata)}`,
    },
  ];
  if (!pkce) {
    findings.push({
      level: "warn",
      check,
      seen: `its metadata does not list code_challenge_methods_supported: clients following MCP 2025-11-25 must then refuse to sign in (the MCP SDK goes on).`,
    });
  }
  if (found?.type === "oidc") {
    findings.push({
      level: "warn",
      check,
      seen: `no RFC 8414 metadata (${describeTried(answers.filter((entry) => entry.type === "oauth"))}): clients that follow MCP 2025-06-18 to the letter (RFC 8414 only) cannot find this server; the MCP SDK and 2025-11-25 clients read OpenID discovery.`,
    });
  }
  return findings;
}
