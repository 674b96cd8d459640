/**
 * Where the gateway's backends are, as the construct takes them: several MCP servers (`backends`, each described by a
 * BackendServer) or one (`backendUrl`), with the credentials and token key that go with them. Turned into the
 * variables the function reads (MCP_BACKENDS, or the one server's), and into one read grant per secret or parameter,
 * however many servers share it.
 */
import { Stack, type Duration } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { TokenExchangeInput } from "../functions/config/token-exchange.js";
import type { ClientSecretMethod } from "../functions/config/token-exchange-presets.js";
import { entriesLoopbackProblems, type BackendEntry } from "./backend-entries.js";
import {
  backendCredentialVariables,
  backendTokenVariables,
  credentialStore,
  storeReference,
  type BackendCredential,
  type BackendToken,
  type ValueStore,
} from "./function-secrets.js";

/** The token the gateway signs for one server, with the gateway's one signing key (`backendToken.key`). */
export interface BackendServerToken {
  /** The header carrying it (`Authorization` sends `Bearer <token>`); not one the gateway manages, nor the credential's. */
  header: string;
  /** Its `aud`. Default: the server URL's origin. */
  audience?: string;
  /** Its lifetime, 10 seconds to an hour. Default 5 minutes. */
  ttl?: Duration;
  /** The caller's claims it copies. Default `["sub"]`. */
  claims?: string[];
}

/**
 * The caller's token exchanged for one issued to the caller for this server (RFC 8693, or Entra ID on-behalf-of): the
 * options of MCP_BACKENDS' `tokenExchange` (`idp`, `flavor`, `tokenEndpoint` or `issuer`, `clientId`, `audience`,
 * `resource`, `scope`, `requestedTokenType`, `subjectTokenType`, `header`, `reuseMarginSeconds`; see
 * functions/config/token-exchange.ts), with the client's secret or private key given as the store holding it.
 */
export interface BackendServerTokenExchange extends Omit<TokenExchangeInput, "clientSecret" | "privateKey" | "timeoutMs"> {
  /** The gateway's client secret at the provider (exactly one of this and `privateKey`); the function may read it alone. */
  clientSecret?: ValueStore;
  /** How the secret is sent: `client_secret_basic` or `client_secret_post`. Default: the idp's, else basic. */
  clientSecretMethod?: ClientSecretMethod;
  /** A private JWK (with `kid` and `alg`) signing `private_key_jwt` client assertions; the function may read it alone. */
  privateKey?: ValueStore;
  /** How long the provider may take before the request is answered 504. Default 10 seconds. */
  timeout?: Duration;
}

/** One backend MCP server of `backends`. */
export interface BackendServer {
  /**
   * 1 to 63 lowercase letters, digits and hyphens, unique among `backends`: the server is served at `<mcpUrl>/<name>`
   * (the construct's `serverUrls`, the stack's output McpServerEndpoints).
   */
  name: string;
  /** The server's Streamable HTTP endpoint (http or https), reachable from the function (see `vpc`). */
  url: string;
  /** How long the server may take to send response headers. Default: `backendTimeout`. */
  timeout?: Duration;
  /** A credential the gateway sends to this server alone, readable by the function alone. Default: none. */
  credential?: BackendCredential;
  /** Request header → caller claim, sent to this server alone (`{ "X-User-Id": "sub" }`). Default: none. */
  identityHeaders?: Record<string, string>;
  /** A token naming the caller, signed for this server alone; needs the signing key `backendToken.key`. Default: none. */
  token?: BackendServerToken;
  /** The caller's token exchanged at the identity provider for this server's (sent instead of anything the gateway signs). Default: none. */
  tokenExchange?: BackendServerTokenExchange;
}

/** The exchange as the function reads it: the secret or key named by the secret's ARN or the parameter's name. */
function exchangeEntry({ clientSecret, clientSecretMethod, privateKey, timeout, ...settings }: BackendServerTokenExchange): TokenExchangeInput {
  return {
    ...settings,
    ...(clientSecret ? { clientSecret: { ...storeReference(clientSecret), ...(clientSecretMethod ? { method: clientSecretMethod } : {}) } } : {}),
    ...(privateKey ? { privateKey: storeReference(privateKey) } : {}),
    ...(timeout ? { timeoutMs: timeout.toMilliseconds({ integral: false }) } : {}),
  };
}

/** The construct's props that say where the backends are and how the gateway proves itself to them. */
export interface BackendProps {
  backendUrl?: string;
  backends?: readonly BackendServer[];
  backendCredential?: BackendCredential;
  backendToken?: BackendToken;
}

/** The servers as the function reads them (MCP_BACKENDS), each credential named by the secret's ARN or the parameter's name. */
function backendEntries(servers: readonly BackendServer[]): BackendEntry[] {
  return servers.map(({ name, url, timeout, credential, identityHeaders, token, tokenExchange }) => ({
    name,
    url,
    // Not integral: the function's check refuses a fraction with the entry's name, rather than Duration throwing here.
    ...(timeout ? { timeoutMs: timeout.toMilliseconds({ integral: false }) } : {}),
    ...(credential ? { credential: { header: credential.header, ...storeReference(credentialStore(credential)) } } : {}),
    ...(identityHeaders ? { identityHeaders } : {}),
    ...(token
      ? {
          token: {
            header: token.header,
            ...(token.audience !== undefined ? { audience: token.audience } : {}),
            ...(token.ttl ? { ttlSeconds: token.ttl.toSeconds({ integral: false }) } : {}),
            ...(token.claims ? { claims: token.claims } : {}),
          },
        }
      : {}),
    ...(tokenExchange ? { tokenExchange: exchangeEntry(tokenExchange) } : {}),
  }));
}

/**
 * The variables these props give the function: MCP_BACKENDS (written by `json`, since ARNs may be tokens), or the
 * one server's credential and token variables; the token's key in either form.
 */
export function backendVariables(props: BackendProps, json: (entries: BackendEntry[]) => string = JSON.stringify): Record<string, string> {
  return {
    ...(props.backends ? { MCP_BACKENDS: json(backendEntries(props.backends)) } : {}),
    ...(props.backendCredential ? backendCredentialVariables(props.backendCredential) : {}),
    ...(props.backendToken ? backendTokenVariables(props.backendToken) : {}),
  };
}

/**
 * Every store the function must read for these props: each server's credential and exchange secret or key, the one
 * server's credential, the signing key.
 */
export function backendStores(props: BackendProps): ValueStore[] {
  const credentials = [...(props.backends ?? []).map((server) => server.credential), props.backendCredential];
  const exchanges = (props.backends ?? []).flatMap(({ tokenExchange }) => [tokenExchange?.clientSecret, tokenExchange?.privateKey]);
  return [
    ...credentials.flatMap((credential) => (credential ? [credentialStore(credential)] : [])),
    ...exchanges.flatMap((store) => (store ? [store] : [])),
    ...(props.backendToken ? [props.backendToken.key] : []),
  ];
}

/**
 * What the function's own checks cannot see in these props: a backend on the deployer's machine, and a signing key
 * no server's token uses (the function would be let read it for nothing).
 */
export function backendPropsProblems(props: BackendProps): string[] {
  const { backends, backendToken } = props;
  if (!backends) return [];
  const problems = entriesLoopbackProblems(backends);
  if (backendToken && !backends.some((server) => server.token)) {
    problems.push("'backendToken.key' signs the servers' tokens, but no server in 'backends' has a token: leave it out, or give a server a token");
  }
  return problems;
}

/**
 * The variables in the function's environment, and a read grant for each store they name. A store two servers share
 * is granted twice in the same words, which the role's policy document writes once.
 */
export function useBackends(fn: lambda.Function, props: BackendProps): void {
  // toJsonString, not JSON.stringify: a secret's ARN may be a token, resolved by CloudFormation inside the JSON.
  for (const [name, value] of Object.entries(backendVariables(props, (entries) => Stack.of(fn).toJsonString(entries)))) fn.addEnvironment(name, value);
  for (const store of backendStores(props)) store.grantRead(fn);
}
