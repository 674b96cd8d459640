/**
 * Binds MCP sessions to the caller who opened them, without server-side state.
 *
 * The backend's `Mcp-Session-Id` is handed to the client wrapped with a MAC over the caller's issuer and subject and
 * the server's name: `<backend session id>.<base64url HMAC-SHA256>`, so it opens neither for another caller nor on
 * another server's endpoint. On every later request the gateway checks the MAC against the
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
  /** The session id the client is given for server `server`'s `backendSessionId`, bound to `identity`. */
  seal(backendSessionId: string, identity: Identity, server: string): Promise<string>;
  /** The backend's session id inside `clientSessionId` when it was sealed for `identity` and `server`; else undefined. */
  open(clientSessionId: string, identity: Identity, server: string): Promise<string | undefined>;
  /**
   * Encrypts `state` (JSON) into visible ASCII that opens only for `identity` and `purpose`: the aggregated endpoint's
   * session (the servers' own session ids) and its list cursors, which the client must neither read nor alter.
   */
  sealState(state: unknown, identity: Identity, purpose: string): Promise<string>;
  /** The state inside `sealed` when it was sealed for `identity` and `purpose`; undefined when not (or altered). */
  openState(sealed: string, identity: Identity, purpose: string): Promise<unknown>;
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

function macInput(backendSessionId: string, identity: Identity, server: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${owner(identity)}\n${server}\n${backendSessionId}`);
}

/** The keys made from the one secret: a MAC key for session ids, an AES-GCM key for sealed state. */
interface SessionKeys {
  mac: CryptoKey;
  seal: CryptoKey;
}

/** AES-GCM's recommended nonce length, in bytes; a random nonce per seal. */
const NONCE_BYTES = 12;
/** Sealed state: a version mark, then base64url of nonce and ciphertext (with its tag). */
const SEALED_STATE = /^s1\.([A-Za-z0-9_-]+)$/;

async function importKeys(secret: string): Promise<SessionKeys> {
  const bytes = encoder.encode(secret.trim());
  if (bytes.length < MIN_SESSION_KEY_BYTES) {
    throw new Error(`the session key must be at least ${MIN_SESSION_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  const mac = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  // A key of its own for encryption, derived so that no value made with one key is ever made with the other.
  const base = await crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]);
  const seal = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("mcp-sso-gateway sealed state") },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return { mac, seal };
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/**
 * @param source where the key is kept (the same for every instance); undefined makes a random key for this process
 *   alone, which suits one local server but not several Lambda instances.
 */
export function createSessionBinding(source: SecretSource | undefined, logger: GatewayLogger): SessionBinding {
  const key = new RefreshingValue<SessionKeys>(async () => importKeys(source ? await readSecret(source) : randomSecret()), {
    maxAgeMs: source ? KEY_CACHE_MS : Number.POSITIVE_INFINITY,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "session key refresh failed; keeping the last good key" : "session key could not be read", {
        source: source ? describeSecret(source) : "random",
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  async function currentKey(): Promise<SessionKeys> {
    const current = await key.get();
    if (!current) throw new SessionKeyUnavailableError(`session key unavailable (${source ? describeSecret(source) : "random"})`);
    return current;
  }
  return {
    async seal(backendSessionId, identity, server) {
      const mac = await crypto.subtle.sign("HMAC", (await currentKey()).mac, macInput(backendSessionId, identity, server));
      return `${backendSessionId}.${Buffer.from(mac).toString("base64url")}`;
    },
    async open(clientSessionId, identity, server) {
      const dot = clientSessionId.lastIndexOf(".");
      const encodedMac = clientSessionId.slice(dot + 1);
      // Base64url decoding skips stray characters; only the exact encoding of a SHA-256 MAC is read at all.
      if (dot <= 0 || !SEALED_MAC.test(encodedMac)) return undefined;
      const backendSessionId = clientSessionId.slice(0, dot);
      const mac = Buffer.from(encodedMac, "base64url");
      // The last of 43 characters carries two bits no byte uses: only the one spelling the MAC encodes to is read,
      // or four ids would open the same session (and an altered one still open it).
      if (mac.toString("base64url") !== encodedMac) return undefined;
      // verify() compares in constant time, so the MAC cannot be found byte by byte from response timings.
      const valid = await crypto.subtle.verify("HMAC", (await currentKey()).mac, mac, macInput(backendSessionId, identity, server));
      return valid ? backendSessionId : undefined;
    },
    async sealState(state, identity, purpose) {
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const additionalData = encoder.encode(`${owner(identity)}\n${purpose}`);
      const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData }, (await currentKey()).seal, encoder.encode(JSON.stringify(state)));
      return `s1.${Buffer.concat([nonce, new Uint8Array(sealed)]).toString("base64url")}`;
    },
    async openState(sealed, identity, purpose) {
      const match = SEALED_STATE.exec(sealed);
      if (!match) return undefined;
      const bytes = Buffer.from(match[1] as string, "base64url");
      // Base64url decoding skips stray characters: only a value that encodes back to itself is read.
      if (bytes.toString("base64url") !== match[1] || bytes.length <= NONCE_BYTES + 16) return undefined;
      const additionalData = encoder.encode(`${owner(identity)}\n${purpose}`);
      try {
        const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, NONCE_BYTES), additionalData }, (await currentKey()).seal, bytes.subarray(NONCE_BYTES));
        return JSON.parse(new TextDecoder().decode(plain)) as unknown;
      } catch (err) {
        if (err instanceof SessionKeyUnavailableError) throw err;
        return undefined;
      }
    },
    async ready() {
      await currentKey();
    },
    async warmUp() {
      await key.get();
    },
  };
}
