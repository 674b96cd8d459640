/**
 * The clients registered with the demo's OpenID Provider (RFC 7591), kept in a file next to the demo's key, so that
 * a client registered with one run of `npm start` is still known after a restart. MCP clients keep their client id
 * (the Inspector in its store, a browser in its storage) and send it again without registering; a provider that had
 * forgotten it would answer their next sign-in with `invalid_client`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Adapter, AdapterPayload } from "oidc-provider";

function load(path: string): Map<string, AdapterPayload> {
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof saved === "object" && saved !== null && !Array.isArray(saved)) return new Map(Object.entries(saved as Record<string, AdapterPayload>));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      // An unreadable file only costs the clients a new registration: start afresh rather than refuse to start.
      console.warn(`demo identity provider: ignoring ${path} (${(err as Error).message}); clients register again`);
    }
  }
  return new Map();
}

/** The adapter of oidc-provider's Client model, saving every change to `path` (written whole, then renamed). */
export function clientRegistrations(path: string): Adapter {
  const clients = load(path);
  const save = () => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, `${JSON.stringify(Object.fromEntries(clients), null, 2)}\n`, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  };
  return {
    async upsert(id, payload) {
      clients.set(id, payload);
      save();
    },
    async find(id) {
      return clients.get(id);
    },
    async destroy(id) {
      if (clients.delete(id)) save();
    },
    // Clients have no uid, user code, grant or single use.
    async findByUid() {
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async consume() {},
    async revokeByGrantId() {},
  };
}
