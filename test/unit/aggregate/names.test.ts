/**
 * Properties of the aggregated endpoint's names and ids, over generated server names (prefixes of each other among
 * them), tool names (with `_`, `-`, `:` and non-ASCII) and server request ids: a shown name always splits back into
 * the one server and tool it was made of, no two (server, tool) pairs are shown alike, and a name or id the gateway
 * did not write names no configured server unless it is exactly one the gateway would write. The configuration
 * refuses server names with `_`, on which all of this rests.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../functions/errors.js";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { prefixedName, splitPrefixedName } from "../../../functions/aggregate/prefixed-names.js";
import { clientFacingId, serverRequestOrigin, withClientFacingId } from "../../../functions/aggregate/server-request-ids.js";

/** Server names as the configuration accepts them, biased towards short ones so prefixes of each other are common. */
const serverName = fc.stringMatching(/^[a-z0-9-]{1,4}$/);
const serverNames = fc.uniqueArray(serverName, { minLength: 1, maxLength: 6 });
const toolName = fc.oneof(fc.stringMatching(/^[a-z_\-:.]{1,8}$/), fc.string({ minLength: 1, maxLength: 8, unit: "grapheme" }));

describe("prefixed names", () => {
  it("split back into the server and the tool they were made of", () => {
    fc.assert(
      fc.property(serverNames, fc.nat(), toolName, (names, pick, tool) => {
        const server = names[pick % names.length] as string;
        expect(splitPrefixedName(prefixedName(server, tool), new Set(names))).toEqual({ server, name: tool });
      }),
      { numRuns: 2_000 },
    );
  });

  it("are never the same for two (server, tool) pairs", () => {
    fc.assert(
      fc.property(serverNames, fc.array(fc.tuple(fc.nat(), toolName), { minLength: 2, maxLength: 12 }), (names, picks) => {
        const pairs = new Map<string, string>();
        for (const [pick, tool] of picks) {
          const server = names[pick % names.length] as string;
          const shown = prefixedName(server, tool);
          const pair = JSON.stringify([server, tool]);
          expect(pairs.get(shown) ?? pair, shown).toBe(pair);
          pairs.set(shown, pair);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("any string names a configured server only when it is that server's name, `_`, and a tool name", () => {
    fc.assert(
      fc.property(serverNames, fc.string({ maxLength: 12 }), (names, shown) => {
        const split = splitPrefixedName(shown, new Set(names));
        if (split === undefined) return;
        expect(names).toContain(split.server);
        expect(split.name.length).toBeGreaterThan(0);
        expect(prefixedName(split.server, split.name)).toBe(shown);
      }),
      { numRuns: 5_000 },
    );
  });

  it("keep a (a-b, c) and a (a, b_c) apart, and ab's from a's", () => {
    const names = new Set(["a", "a-b", "ab"]);
    expect(splitPrefixedName("a_b_c", names)).toEqual({ server: "a", name: "b_c" });
    expect(splitPrefixedName("a-b_c", names)).toEqual({ server: "a-b", name: "c" });
    expect(splitPrefixedName("ab_c", names)).toEqual({ server: "ab", name: "c" });
    for (const shown of ["a", "a_", "_a", "a-b", "a-_c", "abc_c", "A_b", " a_b", "a _b"]) expect(splitPrefixedName(shown, names), shown).toBeUndefined();
  });

  it("rest on server names without `_`: the configuration refuses them, naming the entry", () => {
    const base = { JWT_ISSUER: "https://idp.example.com", JWT_AUDIENCE: "mcp-gateway", POLICY_FILE: "policies/walkthrough.yaml" };
    for (const name of ["a_b", "_a", "a_", "A", "a.b", "", "a".repeat(64)]) {
      let problems: string[] = [];
      try {
        loadConfigFromEnv({ ...base, MCP_BACKENDS: JSON.stringify([{ name: "ok", url: "http://ok:1/mcp" }, { name, url: "http://x:1/mcp" }]) });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        problems = [...(err as ConfigError).problems];
      }
      expect(problems.join("\n"), JSON.stringify(name)).toMatch(/MCP_BACKENDS\[1\].*name/);
    }
  });
});

describe("server request ids", () => {
  const ownId = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER));

  it("come back as the server and the server's own id, for two servers using the same ids", () => {
    fc.assert(
      fc.property(serverNames, fc.nat(), fc.nat(), ownId, (names, i, j, id) => {
        const first = names[i % names.length] as string;
        const second = names[j % names.length] as string;
        const set = new Set(names);
        expect(serverRequestOrigin(clientFacingId(first, id), set)).toEqual({ server: first, id });
        if (first !== second) expect(clientFacingId(first, id)).not.toBe(clientFacingId(second, id));
      }),
      { numRuns: 2_000 },
    );
  });

  it("an id the gateway did not write names a server only when it is exactly one the gateway would write", () => {
    fc.assert(
      fc.property(serverNames, fc.oneof(fc.string({ maxLength: 14 }), fc.integer(), fc.constant(null)), (names, forged) => {
        const origin = serverRequestOrigin(forged, new Set(names));
        if (origin === undefined) return;
        expect(names).toContain(origin.server);
        expect(clientFacingId(origin.server, origin.id)).toBe(forged);
      }),
      { numRuns: 5_000 },
    );
    const names = new Set(["a", "a-b"]);
    for (const forged of ["a", "a:", "b:1", "a-b", ":1", "a:{}", "a:[1]", "a:null", "a:true", "a:1e999", 7, null]) {
      expect(serverRequestOrigin(forged, names), JSON.stringify(forged)).toBeUndefined();
    }
  });

  it("are written on the server's requests only, never on its notifications or its answers to the client", () => {
    expect(withClientFacingId({ jsonrpc: "2.0", id: 3, method: "sampling/createMessage", params: {} }, "a")).toEqual({ jsonrpc: "2.0", id: "a:3", method: "sampling/createMessage", params: {} });
    const answer = { jsonrpc: "2.0", id: 3, result: {} };
    expect(withClientFacingId(answer, "a")).toBe(answer);
    const notification = { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 3 } };
    expect(withClientFacingId(notification, "a")).toBe(notification);
  });
});
