/**
 * One token exchange at the provider's token endpoint, as a form POST: RFC 8693 (`subject_token` = the caller's token)
 * or Entra ID on-behalf-of (`assertion` = the caller's token, `requested_token_use=on_behalf_of`). The answer is
 * checked (a bearer `access_token`, `expires_in` when given); a refusal becomes the error that says whose it is:
 * the caller's (refused, or a scope refused), or the gateway's own setup (502, logged).
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import type { TokenExchangeConfig } from "../config/token-exchange.js";
import { ACCESS_TOKEN_TYPE } from "../config/token-exchange-presets.js";
import { TokenExchangeRefusedError, TokenExchangeScopeError, TokenExchangeUnavailableError } from "../errors.js";
import type { ClientProof } from "./client-authentication.js";
import { fetchFromProvider } from "./identity-provider-fetch.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** Token types an RFC 8693 answer may name for a token sent as a bearer access token. */
const USABLE_ISSUED_TYPES = new Set([ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"]);
/** Errors that say the requested scopes were refused: answered 403 insufficient_scope. */
const SCOPE_ERRORS = new Set(["invalid_scope", "insufficient_scope"]);
/** Errors that say the gateway's own registration or request is wrong, whoever calls: 502, for the operator to fix. */
const SETUP_ERRORS = new Set(["invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_request", "invalid_target"]);
/** How much of the provider's error_description goes into the log line. */
const DESCRIPTION_CHARS = 300;

export interface ExchangedToken {
  token: string;
  /** When it expires, in milliseconds since the epoch; undefined when the provider did not say (not reused). */
  expiresAtMs: number | undefined;
}

const tokenAnswer = z.object({
  access_token: z.string().check(z.minLength(1)),
  token_type: z.string(),
  // Entra's v1 endpoint sent it as a string of digits.
  expires_in: z.optional(z.union([z.number().check(z.gt(0)), z.string().check(z.regex(/^\d+$/))])),
  issued_token_type: z.optional(z.string()),
});

const errorAnswer = z.object({
  error: z.string().check(z.minLength(1)),
  error_description: z.optional(z.string()),
  /** Entra: the AADSTS numbers, and a finer code (`consent_required`, ...). */
  error_codes: z.optional(z.array(z.number())),
  suberror: z.optional(z.string()),
});

/** The grant's own form fields for this caller's token. */
export function grantForm(config: TokenExchangeConfig, subjectToken: string): Record<string, string> {
  const optional = (entries: Array<[string, string | undefined]>) => Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
  if (config.flavor === "entra-obo") {
    return { grant_type: JWT_BEARER_GRANT, assertion: subjectToken, requested_token_use: "on_behalf_of", ...optional([["scope", config.scope]]) };
  }
  return {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: subjectToken,
    subject_token_type: config.subjectTokenType,
    ...optional([
      ["requested_token_type", config.requestedTokenType],
      ["audience", config.audience],
      ["resource", config.resource],
      ["scope", config.scope],
    ]),
  };
}

/** The provider's code with Entra's AADSTS number and suberror when given: `invalid_grant (AADSTS65001, consent_required)`. */
function errorCode(answer: z.output<typeof errorAnswer>): string {
  const aadsts = answer.error_codes?.[0] ?? /^AADSTS(\d+)/.exec(answer.error_description ?? "")?.[1];
  const details = [aadsts === undefined ? undefined : `AADSTS${aadsts}`, answer.suberror].filter((d): d is string => d !== undefined && d !== "");
  return details.length > 0 ? `${answer.error} (${details.join(", ")})` : answer.error;
}

function refusal(server: string, status: number, json: unknown): Error {
  const parsed = errorAnswer.safeParse(json);
  if (!parsed.success) return new TokenExchangeUnavailableError(server, `the token endpoint answered HTTP ${status} without an OAuth error`);
  const code = errorCode(parsed.data);
  const detail = (parsed.data.error_description ?? "").replace(/\s+/g, " ").slice(0, DESCRIPTION_CHARS);
  if (SCOPE_ERRORS.has(parsed.data.error)) return new TokenExchangeScopeError(server, code, detail);
  if (SETUP_ERRORS.has(parsed.data.error)) return new TokenExchangeUnavailableError(server, `the token endpoint refused the gateway's request: ${code}${detail ? ` (${detail})` : ""}`);
  return new TokenExchangeRefusedError(server, code, detail);
}

/** Exchanges `subjectToken` at `endpoint`; rejects with the exchange's typed errors. */
export async function requestExchange(config: TokenExchangeConfig, server: string, subjectToken: string, endpoint: URL, proof: ClientProof, now: () => number): Promise<ExchangedToken> {
  const body = new URLSearchParams({ ...grantForm(config, subjectToken), ...proof.form });
  const { status, json } = await fetchFromProvider(endpoint, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", ...proof.headers } }, server, config.timeoutMs);
  if (status >= 400 && status < 500) throw refusal(server, status, json);
  if (status !== 200) throw new TokenExchangeUnavailableError(server, `the token endpoint answered HTTP ${status}`);
  const parsed = tokenAnswer.safeParse(json);
  if (!parsed.success) throw new TokenExchangeUnavailableError(server, `the token endpoint's answer is not a token response (${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")})`);
  const answer = parsed.data;
  if (answer.token_type.toLowerCase() !== "bearer") throw new TokenExchangeUnavailableError(server, `the token endpoint issued a token of type ${JSON.stringify(answer.token_type)}, not a bearer token`);
  if (answer.issued_token_type !== undefined && !USABLE_ISSUED_TYPES.has(answer.issued_token_type)) {
    throw new TokenExchangeUnavailableError(server, `the token endpoint issued a ${answer.issued_token_type}, not an access token`);
  }
  return { token: answer.access_token, expiresAtMs: answer.expires_in === undefined ? undefined : now() + Number(answer.expires_in) * 1000 };
}
