/**
 * MCP_BACKENDS as the stack writes it for the function, one entry per backend MCP server (the function's reading of it
 * is functions/config/backends.ts, which checks every field at synth too), and the rule only AWS adds: no loopback.
 */
import { isLoopbackUrl } from "../functions/config/loopback.js";
import type { TokenExchangeInput } from "../functions/config/token-exchange.js";

/** The gateway's own credential for one server, named where the function reads it from. */
export type BackendEntryCredential =
  /** The header it is sent in, and the Secrets Manager secret (its ARN) holding it. */
  | { header: string; secretId: string }
  /** The header it is sent in, and the SSM SecureString parameter (its name) holding it. */
  | { header: string; ssmParameter: string };

/** The token the gateway signs for one server, with the one signing key (BACKEND_TOKEN_KEY_*). */
export interface BackendEntryToken {
  /** The header carrying it (`Authorization` sends `Bearer <token>`). */
  header: string;
  /** Its `aud`. Default: the server URL's origin. */
  audience?: string;
  /** Its lifetime in seconds (10 to 3600). Default 300. */
  ttlSeconds?: number;
  /** The caller's claims it copies. Default `sub`. */
  claims?: string[];
}

/** One server of MCP_BACKENDS. */
export interface BackendEntry {
  /** 1 to 63 lowercase letters, digits and hyphens, unique in the list: the last part of the server's MCP endpoint. */
  name: string;
  /** The server's Streamable HTTP endpoint (http or https), reachable from the function. */
  url: string;
  /** Milliseconds to wait for the server's response headers. Default: BACKEND_TIMEOUT_MS. */
  timeoutMs?: number;
  /** A credential sent to this server alone. Default: none. */
  credential?: BackendEntryCredential;
  /** Request header → caller claim, sent to this server alone. Default: none. */
  identityHeaders?: Record<string, string>;
  /** A gateway-signed token sent to this server alone. Default: none. */
  token?: BackendEntryToken;
  /**
   * The caller's token exchanged at the identity provider for one issued to the caller for this server (options as
   * functions/config/token-exchange.ts documents them); its client secret or private key named by ARN or name. Default: none.
   */
  tokenExchange?: TokenExchangeInput;
}

/** The function runs in AWS: an address on the deployer's own machine can never be right there. */
export function loopbackProblems(setting: string, value: unknown): string[] {
  return typeof value === "string" && URL.canParse(value) && isLoopbackUrl(new URL(value))
    ? [`${setting} points at a loopback address (${value}), which the deployed function cannot reach`]
    : [];
}

/** How the messages name an entry, as the function's do (with the context key): its place, and its name if it has one. */
export function entryLabel(index: number, name: unknown): string {
  return `'backends'[${index}]${typeof name === "string" && name.length > 0 ? ` (${JSON.stringify(name)})` : ""}`;
}

/** The loopback problem of each entry's URL. */
export function entriesLoopbackProblems(entries: readonly unknown[]): string[] {
  return entries.flatMap((entry, index) => {
    const { name, url } = (typeof entry === "object" && entry !== null ? entry : {}) as { name?: unknown; url?: unknown };
    return loopbackProblems(`${entryLabel(index, name)}.url`, url);
  });
}
