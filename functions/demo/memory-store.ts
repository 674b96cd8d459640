/**
 * Where the demo's OpenID Provider keeps what it issues (registered clients, sessions, grants, interactions, codes,
 * refresh tokens): in this process's memory, each until it expires. Restarting the demo forgets them all, which suits
 * a demo: MCP clients register again and people sign in again, while access tokens (JWTs signed with the key the
 * demo keeps on disk) stay valid until they expire. oidc-provider's own in-memory adapter does the same, but warns at
 * every start that it is meant for development only.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  /** Milliseconds since the epoch; Infinity for entries stored without a lifetime. */
  expiresAt: number;
}

/** The kinds of artefact that belong to a grant, and go when it is revoked (as oidc-provider's own adapter does). */
const GRANT_MEMBERS = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);

/** One store shared by every model of one provider (`adapter` in its configuration). */
export function createMemoryStore(): AdapterFactory {
  const entries = new Map<string, Entry>();

  function sweep(now = Date.now()): void {
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }

  function live(key: string): AdapterPayload | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.payload;
    entries.delete(key);
    return undefined;
  }

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    const findBy = (field: "uid" | "userCode", value: string) => {
      for (const [key, entry] of entries) if (key.startsWith(`${model}:`) && entry.payload[field] === value) return live(key);
      return undefined;
    };
    return {
      async upsert(id, payload, expiresIn) {
        sweep();
        entries.set(keyOf(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      },
      async find(id) {
        return live(keyOf(id));
      },
      async findByUid(uid) {
        return findBy("uid", uid);
      },
      async findByUserCode(userCode) {
        return findBy("userCode", userCode);
      },
      async consume(id) {
        const payload = live(keyOf(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const [key, entry] of entries) {
          if (entry.payload.grantId === grantId && GRANT_MEMBERS.has(key.slice(0, key.indexOf(":")))) entries.delete(key);
        }
      },
    };
  };
}
