/**
 * Check 2, without a token: the RFC 9728 document at each URL clients try (metadata-locations.ts), fetched and parsed
 * by the MCP SDK's discoverOAuthProtectedResourceMetadata. Each must name the endpoint's own URL as `resource` (RFC 9728
 * §3.3: clients must not use a document naming another) and at least one authorization server (MCP requires it).
 * The challenge's URL must work; a well-known URI that is not routable is a warning naming the clients it leaves out.
 */
import { discoverOAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import { describeAnswer, type ObservedFetch } from "./observed-fetch.js";
import { ROLE_NAMES, type MetadataLocation, type MetadataRole } from "./metadata-locations.js";
import { errorLine, type Finding } from "./report.js";

export interface ResourceMetadataResult {
  findings: Finding[];
  /** The authorization servers the usable documents name, in order, each once. */
  authorizationServers: string[];
  /** Whether any URL a client tries without a usable challenge (the well-known URIs) serves a usable document. */
  wellKnownWorks: boolean;
}

/** Who is left out when a URL playing only these parts does not work. */
const LEFT_OUT: Partial<Record<MetadataRole, string>> = {
  path: "clients that get no usable challenge try this URI first (MCP 2025-11-25)",
  root: "clients that get no usable challenge and no document at the path-aware URI try this one last (MCP 2025-11-25), and clients that look only at the host root cannot sign in",
};

function rolesText(location: MetadataLocation): string {
  return location.roles.map((role) => ROLE_NAMES[role]).join(" and ");
}

/** An execute-api URL puts the stage first (`/prod/mcp`): only paths under it reach the function. */
function stageHint(endpoint: URL): string | undefined {
  const segments = endpoint.pathname.split("/").filter(Boolean);
  if (segments.length < 2) return undefined;
  return `if this is a REST API's execute-api URL, only paths under its stage (/${segments[0]}) reach the function; a custom domain serves the endpoint at the host root, with these URIs.`;
}

export async function checkResourceMetadata(
  endpoint: URL,
  locations: MetadataLocation[],
  challengeUsable: boolean,
  http: ObservedFetch,
): Promise<ResourceMetadataResult> {
  const findings: Finding[] = [];
  const authorizationServers: string[] = [];
  let wellKnownWorks = false;

  for (const location of locations) {
    const check = `metadata at ${location.url.href}`;
    const parts = rolesText(location);
    const followsChallenge = location.roles.includes("challenge");
    let document: Awaited<ReturnType<typeof discoverOAuthProtectedResourceMetadata>>;
    try {
      document = await discoverOAuthProtectedResourceMetadata(endpoint, { resourceMetadataUrl: location.url }, http.fetch);
    } catch (error) {
      const answer = http.last(location.url);
      const answered = answer?.status === 200 ? `200, but no RFC 9728 document (${errorLine(error)})` : describeAnswer(answer);
      if (followsChallenge) {
        findings.push({
          level: "fail",
          check,
          seen: `${parts}: ${answered}: clients that follow the challenge cannot sign in.`,
          fix: "the gateway serves its metadata at PUBLIC_URL/.well-known/oauth-protected-resource/<MCP path>; set PUBLIC_URL to the base URL clients use.",
        });
      } else {
        const leftOut = location.roles.map((role) => LEFT_OUT[role]).filter(Boolean).join("; ");
        const needed = challengeUsable ? "; clients that read the challenge do not need it" : "";
        const hint = answer?.status === 403 || answer?.status === 404 ? stageHint(endpoint) : undefined;
        findings.push({ level: "warn", check, seen: `${parts}: ${answered}: ${leftOut}${needed}.`, ...(hint ? { fix: hint } : {}) });
      }
      continue;
    }

    const problems: { seen: string; fix: string }[] = [];
    if (new URL(document.resource).href !== endpoint.href) {
      problems.push({
        seen: `its resource is ${document.resource}, not the endpoint's URL ${endpoint.href}: clients must not use it (RFC 9728 §3.3)`,
        fix: "set PUBLIC_URL to the base URL clients use (the stack sets it to its front door's URL), or give doctor the URL clients are given",
      });
    }
    const servers = document.authorization_servers ?? [];
    if (servers.length === 0) {
      problems.push({
        seen: "it names no authorization_servers: clients cannot learn where to get a token (MCP requires at least one)",
        fix: "set AUTHORIZATION_SERVERS to the identity provider's issuer URL",
      });
    }
    if (problems.length > 0) {
      findings.push({
        level: "fail",
        check,
        seen: `${parts}: ${problems.map((problem) => problem.seen).join("; ")}.`,
        fix: `${problems.map((problem) => problem.fix).join("; ")}.`,
      });
      continue;
    }
    if (location.roles.some((role) => role !== "challenge")) wellKnownWorks = true;
    for (const server of servers) if (!authorizationServers.includes(server)) authorizationServers.push(server);
    const scopes = document.scopes_supported?.length ? `, scopes ${document.scopes_supported.join(" ")}` : "";
    findings.push({ level: "ok", check, seen: `${parts}: resource ${document.resource}, authorization servers ${servers.join(", ")}${scopes}` });
  }
  return { findings, authorizationServers, wellKnownWorks };
}

