/**
 * Binds MCP sessions to the caller who opened them, without server-side state.
 *
 * The backend's `Mcp-Session-Id` is handed to the client wrapped with a MAC over the caller's issuer and subject:
 * `<backend session id>.<base64url HMAC-SHA256>`. On every later request the gateway checks the MAC against the
 * caller presenting it and forwards only the backend's own id. A session id that was issued to someone else, altered,
 * or sealed with another key is answered 404 (Session not found), as the spec asks for an unknown session, so the
 * client starts a new one and nothing tells it whether the session exists. Any instance holding the same key can
 * check any session id: the key is the only state, which is what lets many Lambda instances share sessions.
 */
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { SecretSource } from "../config/gateway-config.js";
import { SessionKeyUnavailableError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import type { Identity } from "../auth/identity.js";
import { describeSecret, readSecret } from "./secret-source.js";

export interface SessionBinding {
  /** The session id the client is given for the backend's `backendSessionId`, bound to `identity`. */
  seal(backendSessionId: string, identity: Identity): Promise<string>;
  /** The backend's session id inside `clientSessionId` when it was sealed for `identity`; otherwise undefined. */
  open(clientSessionId: string, identity: Identity): Promise<string | undefined>;
  /**
   * Rejects with SessionKeyUnavailableError (503) while no key can be had. Checked before anything is forwarded, so
   * the backend never opens a session the gateway could not hand out.
   */
  ready(): Promise<void>;
  /** Loads the key ahead of the first request (cold start). */
  warmUp(): Promise<void>;
}

/** A shorter key would make the MAC guessable; 32 bytes match the hash. */
export const MIN_SESSION_KEY_BYTES = 32;

/** How long a key read from AWS is used before it is read again (a rotated key is picked up within this time). */
const KEY_CACHE_MS = 3_600_000;

/** An HMAC-SHA256 in unpadded base64url: 43 characters. */
const SEALED_MAC = /^[A-Za-z0-9_-]{43}$/;

const encoder = new TextEncoder();

/**
 * Who a session belongs to. `sub` is unique only within its issuer, so the issuer is part of it; a token without a
 * `sub` (some client-credentials tokens) is bound to its client application instead.
 */
function owner(identity: Identity): string {
  const { iss, azp, client_id: clientId } = identity.claims as Record<string, unknown>;
  return JSON.stringify([iss ?? null, identity.subject ?? null, identity.subject === undefined ? (azp ?? clientId ?? null) : null]);
}

function macInput(backendSessionId: string, identity: Identity): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${owner(identity)}\n${backendSessionId}`);
}

function importKey(secret: string): Promise<CryptoKey> {
  const bytes = encoder.encode(secret.trim());
  if (bytes.length < MIN_SESSION_KEY_BYTES) {
    return Promise.reject(new Error(`the session key must be at least ${MIN_SESSION_KEY_BYTES} bytes, got ${bytes.length}`));
  }
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/**
 * @param source where the key is kept (the same for every instance); undefined makes a random key for this process
 *   alone, which suits one local server but not several Lambda instances.
 */
export function createSessionBinding(source: SecretSource | undefined, logger: GatewayLogger): SessionBinding {
  const key = new RefreshingValue<CryptoKey>(async () => importKey(source ? await readSecret(source) : randomSecret()), {
    maxAgeMs: source ? KEY_CACHE_MS : Number.POSITIVE_INFINITY,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "session key refresh failed; keeping the last good key" : "session key could not be read", {
        source: source ? describeSecret(source) : "random",
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  async function currentKey(): Promise<CryptoKey> {
    const current = await key.get();
    if (!current) throw new SessionKeyUnavailableError(`session key unavailable (${source ? describeSecret(source) : "random"})`);
    return current;
  }
  return {
    async seal(backendSessionId, identity) {
      const mac = await crypto.subtle.sign("HMAC", await currentKey(), macInput(backendSessionId, identity));
      return `${backendSessionId}.${Buffer.from(mac).toString("base64url")}`;
    },
    async open(clientSessionId, identity) {
      const dot = clientSessionId.lastIndexOf(".");
      const encodedMac = clientSessionId.slice(dot + 1);
      // Base64url decoding skips stray characters; only the exact encoding of a SHA-256 MAC is read at all.
      if (dot <= 0 || !SEALED_MAC.test(encodedMac)) return undefined;
      const backendSessionId = clientSessionId.slice(0, dot);
      const mac = Buffer.from(encodedMac, "base64url");
      // verify() compares in constant time, so the MAC cannot be found byte by byte from response timings.
      const valid = await crypto.subtle.verify("HMAC", await currentKey(), mac, macInput(backendSessionId, identity));
      return valid ? backendSessionId : undefined;
    },
    async ready() {
      await currentKey();
    },
    async warmUp() {
      await key.get();
    },
  };
}
