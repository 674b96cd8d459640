/**
 * Check 1, without a token: the MCP endpoint must answer 401 with a challenge naming the RFC 9728 metadata
 * (`WWW-Authenticate: Bearer resource_metadata="..."`), which is how MCP clients learn where to sign in (MCP
 * 2025-06-18 requires servers to send it; 2025-11-25 lets clients fall back to well-known URIs without it).
 * API Gateway renames a Lambda proxy's WWW-Authenticate to x-amzn-Remapped-WWW-Authenticate (and function URLs are
 * reported to): that is reported as the failure it is, with the fix: the stack's custom domain, whose CloudFront
 * distribution restores the header at the edge, on any front door (docs/aws.md).
 */
import { extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Finding } from "./report.js";
import { describeAnswer, type ObservedFetch } from "./observed-fetch.js";

/** The name API Gateway gives a Lambda proxy's WWW-Authenticate response header. */
export const REMAPPED_CHALLENGE_HEADER = "x-amzn-Remapped-WWW-Authenticate";

/** What a client sends first: an initialize request, without a token. */
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-sso-gateway-doctor", version: "1" } },
});

export interface ChallengeResult {
  finding: Finding;
  /** Whether the endpoint answered at all (nothing else is worth checking when it did not). */
  reachable: boolean;
  /** The metadata URL a client reading the WWW-Authenticate header gets; undefined when it gets none. */
  usableMetadataUrl?: URL;
  /** The metadata URL the challenge named, under whichever header it came (the renamed one included). */
  namedMetadataUrl?: URL;
}

/** resource_metadata from a challenge value, read by the MCP SDK's own parser. */
function metadataUrlIn(challenge: string): URL | undefined {
  return extractWWWAuthenticateParams(new Response(null, { headers: { "www-authenticate": challenge } })).resourceMetadataUrl;
}

export async function checkChallenge(endpoint: URL, http: ObservedFetch): Promise<ChallengeResult> {
  const check = "challenge";
  try {
    await http.fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: INITIALIZE,
    });
  } catch {
    const seen = `cannot reach ${endpoint.href}: ${describeAnswer(http.last(endpoint, "POST"))}.`;
    return { reachable: false, finding: { level: "fail", check, seen, fix: "check the URL (the stack's McpEndpointUrl output) and that the gateway runs." } };
  }
  const answer = http.last(endpoint, "POST");
  const status = answer?.status;
  const headers = answer?.headers ?? new Headers();
  if (status !== 401) return { reachable: true, finding: unexpectedStatus(check, answer ? describeAnswer(answer) : "no answer", status) };

  const challenge = headers.get("www-authenticate");
  const renamed = headers.get(REMAPPED_CHALLENGE_HEADER);
  if (challenge !== null) {
    const url = metadataUrlIn(challenge);
    if (url) return { reachable: true, usableMetadataUrl: url, namedMetadataUrl: url, finding: { level: "ok", check, seen: `401 with WWW-Authenticate: ${challenge}` } };
    return {
      reachable: true,
      finding: {
        level: "fail",
        check,
        seen: `401 with WWW-Authenticate: ${challenge}, which names no resource_metadata URL: clients that read the challenge cannot learn where to sign in.`,
        fix: "something in front of the gateway replaces its challenge (the gateway names resource_metadata in every 401); answer 401s from the gateway itself.",
      },
    };
  }
  if (renamed !== null) {
    const url = metadataUrlIn(renamed);
    return {
      reachable: true,
      ...(url ? { namedMetadataUrl: url } : {}),
      finding: {
        level: "fail",
        check,
        seen:
          `401, but the challenge came renamed, as ${REMAPPED_CHALLENGE_HEADER}: ${renamed} (API Gateway renames a Lambda proxy's ` +
          "WWW-Authenticate). Clients that read the challenge never start sign-in (Claude: anthropics/claude-ai-mcp issue 748); " +
          "MCP SDK clients fall back to the well-known URIs below.",
        fix: 'give the stack a custom domain (-c domainName=... -c certificateArn=...): its CloudFront distribution restores the header (README, "Deploy on AWS").',
      },
    };
  }
  return {
    reachable: true,
    finding: {
      level: "fail",
      check,
      seen: "401 without a WWW-Authenticate challenge: clients cannot learn where to sign in.",
      fix: "something in front of the gateway drops its WWW-Authenticate header; let it through.",
    },
  };
}

/** A tokenless request that was not answered 401: the endpoint is not the gateway, or not reached as one. */
function unexpectedStatus(check: string, answer: string, status: number | undefined): Finding {
  if (status !== undefined && status < 300) {
    return { level: "fail", check, seen: `answered ${answer} without a token: this endpoint is not protected by the gateway.`, fix: "give the gateway's MCP endpoint (the stack's McpEndpointUrl output)." };
  }
  if (status === 404) {
    return { level: "fail", check, seen: `answered ${answer}: there is no MCP endpoint at this URL.`, fix: "give the MCP endpoint URL (the stack's McpEndpointUrl output, ending in /mcp)." };
  }
  if (status === 403) {
    return {
      level: "fail",
      check,
      seen: `answered ${answer} without a token: the request was refused before authentication.`,
      fix: "the gateway refuses a Host outside ALLOWED_HOSTS and requests that bypass its front door; call the URL clients use.",
    };
  }
  return { level: "fail", check, seen: `answered ${answer} instead of 401.` };
}
