/**
 * How the gateway proves itself to a token endpoint: a client secret (HTTP Basic or in the body, RFC 6749 §2.3.1), or
 * `private_key_jwt` (RFC 7523 §2.2): a short-lived assertion naming the gateway's client, for that endpoint, signed
 * with a private JWK. The secret or key is read from SSM or Secrets Manager, cached, the last good one kept; with none
 * ever read, no exchange is tried (502).
 */
import { SignJWT } from "jose";
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { ClientAuthentication } from "../config/token-exchange.js";
import { TokenExchangeUnavailableError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import { loadSigningKey, type SigningKey } from "../proxy/backend-token.js";
import { describeSecret, readSecret } from "../proxy/secret-source.js";

export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** How long a secret or key is used before it is read again (rotation reaches every instance). */
const SECRET_MAX_AGE_MS = 300_000;
/** Lifetime of a client assertion, in seconds: it is made for one request. */
const ASSERTION_TTL_SECONDS = 60;

/** The form fields and headers that authenticate one token request. */
export interface ClientProof {
  form: Record<string, string>;
  headers: Record<string, string>;
}

export type ClientAuthenticator = (tokenEndpoint: URL) => Promise<ClientProof>;

/** RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined for HTTP Basic. */
function basicCredentials(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString("base64")}`;
}

export function createClientAuthenticator(clientId: string, auth: ClientAuthentication, server: string, logger: GatewayLogger): ClientAuthenticator {
  const source = auth.method === "private_key_jwt" ? auth.key : auth.secret;
  const onError = (err: unknown, keepingLastGood: boolean) =>
    logger.error(keepingLastGood ? "token exchange client credential refresh failed; keeping the last good one" : "token exchange client credential could not be read", {
      server,
      source: describeSecret(source),
      error: err instanceof Error ? err.message : String(err),
    });
  const unavailable = () => new TokenExchangeUnavailableError(server, `client credential unavailable (${describeSecret(source)})`);

  if (auth.method === "private_key_jwt") {
    const key = new RefreshingValue<SigningKey>(async () => loadSigningKey(await readSecret(source), "the token exchange private key"), { maxAgeMs: SECRET_MAX_AGE_MS, onError });
    return async (tokenEndpoint) => {
      const signing = await key.get();
      if (!signing) throw unavailable();
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: "JWT" })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(tokenEndpoint.href)
        .setIssuedAt(now)
        .setExpirationTime(now + ASSERTION_TTL_SECONDS)
        .setJti(crypto.randomUUID())
        .sign(signing.key);
      return { form: { client_id: clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }, headers: {} };
    };
  }
  const secret = new RefreshingValue<string>(async () => (await readSecret(source)).trim(), { maxAgeMs: SECRET_MAX_AGE_MS, onError });
  return async (): Promise<ClientProof> => {
    const value = await secret.get();
    if (value === undefined) throw unavailable();
    return auth.method === "client_secret_basic"
      ? { form: {}, headers: { authorization: basicCredentials(clientId, value) } }
      : { form: { client_id: clientId, client_secret: value }, headers: {} };
  };
}
