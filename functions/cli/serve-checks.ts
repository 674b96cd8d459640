/**
 * What `serve` makes sure of before it listens: that the gateway could answer anything but 503. The policy must load
 * (read and compiled exactly as the gateway will), every issuer's signing keys must be fetched (from JWKS_URI or by
 * OIDC discovery, with the gateway's own fetcher and JWKS checks), and every value kept in SSM or Secrets Manager
 * (session key, backend credential, backend token key, edge secret) must be readable. A server started by hand that
 * fails one of these is a mistake to report at once, naming the file, URL or parameter.
 *
 * The Lambda function does not run these checks: there a dependency that is down at cold start may be back for the
 * next request, so the function answers 503 with the reason meanwhile (and keeps the last good policy).
 */
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { JwksFetcher, discoveryUrl } from "../auth/jwks-fetcher.js";
import type { GatewayConfig, SecretSource } from "../config/gateway-config.js";
import { createPolicySource } from "../policy/sources.js";
import { validatePolicyTexts } from "../policy/validate-documents.js";
import { describeSecret, readSecret } from "../proxy/secret-source.js";

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function policyProblem(config: GatewayConfig): Promise<string | undefined> {
  const { kind, path } = config.policySource;
  const variable = kind === "file" ? "POLICY_FILE" : "POLICY_SSM_PATH";
  let texts;
  try {
    texts = await createPolicySource(config.policySource).load();
  } catch (err) {
    return `${variable} ${path}: the policy cannot be read: ${message(err)}`;
  }
  try {
    validatePolicyTexts(texts);
  } catch (err) {
    // The message names the document and the place in it.
    return `${variable} ${path}: the policy is not valid: ${message(err)}`;
  }
  return undefined;
}

async function keysProblem(issuer: GatewayConfig["issuers"][number]): Promise<string | undefined> {
  const uri = issuer.jwksUri?.href ?? discoveryUrl(issuer.issuer);
  const where = issuer.jwksUri ? `from ${uri}` : `by OIDC discovery at ${uri}`;
  try {
    const { keys } = await new SimpleJwksCache({ fetcher: new JwksFetcher() }).getJwks(uri);
    // A valid but empty JWKS verifies no token: every request would be 401.
    return keys.length > 0 ? undefined : `the signing keys of issuer ${issuer.issuer} fetched ${where} are none (an empty JWKS)`;
  } catch (err) {
    // aws-jwt-verify's messages repeat the URL ("Failed to fetch <uri>: ..."), which this one names already.
    const detail = message(err).replace(/^Failed to fetch \S+: /, "");
    return `the signing keys of issuer ${issuer.issuer} cannot be fetched ${where}: ${detail}`;
  }
}

async function secretProblem(variable: string, source: SecretSource): Promise<string | undefined> {
  try {
    await readSecret(source);
    return undefined;
  } catch (err) {
    const detail = err instanceof Error && err.message && err.message !== err.name ? `${err.name}: ${err.message}` : message(err);
    return `${variable}: ${describeSecret(source)} cannot be read: ${detail}`;
  }
}

/** The variable that names where a value is kept, for messages. */
function secretVariable(prefix: string, source: SecretSource): string {
  return `${prefix}_${source.kind === "ssm" ? "SSM_PARAMETER" : "SECRET_ID"}`;
}

/** Every reason the configured gateway could not serve a request; none when it can. The checks run in parallel. */
export async function servingProblems(config: GatewayConfig): Promise<string[]> {
  const secrets: Array<[string, SecretSource]> = [];
  if (config.sessionKey) secrets.push([secretVariable("SESSION_KEY", config.sessionKey), config.sessionKey]);
  const many = config.backends.length > 1;
  for (const { name, credential } of config.backends) {
    if (credential) secrets.push([many ? `MCP_BACKENDS ${name}.credential` : secretVariable("BACKEND_CREDENTIAL", credential.source), credential.source]);
  }
  const tokenKey = config.backends.find((backend) => backend.token)?.token?.key;
  if (tokenKey) secrets.push([secretVariable("BACKEND_TOKEN_KEY", tokenKey), tokenKey]);
  if (config.edgeSecret) secrets.push([secretVariable("EDGE_SECRET", config.edgeSecret.source), config.edgeSecret.source]);
  const problems = await Promise.all([
    policyProblem(config),
    ...config.issuers.map(keysProblem),
    ...secrets.map(([variable, source]) => secretProblem(variable, source)),
  ]);
  return problems.filter((problem): problem is string => problem !== undefined);
}
