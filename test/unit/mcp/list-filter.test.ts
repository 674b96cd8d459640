import { describe, expect, it } from "vitest";
import { filterListResults, type ItemPredicate } from "../../../functions/mcp/list-filter.js";
import type { PolicyItem } from "../../../functions/policy/types.js";

/** Allows only the listed kind:name pairs, and records every question asked. */
function allowOnly(...allowed: string[]): ItemPredicate & { asked: string[] } {
  const asked: string[] = [];
  const predicate = (item: PolicyItem) => {
    asked.push(`${item.kind}:${item.name}`);
    return allowed.includes(`${item.kind}:${item.name}`);
  };
  return Object.assign(predicate, { asked });
}
const response = <T>(result: T, id: number | string = 1) => ({ jsonrpc: "2.0", id, result });

describe("filterListResults", () => {
  it("filters tools by name, leaving nextCursor and other fields untouched", () => {
    const input = response({ tools: [{ name: "echo", inputSchema: {} }, { name: "search", description: "d" }], nextCursor: "c2", _meta: { a: 1 } });
    const { message, removed } = filterListResults(input, allowOnly("tool:search"));
    expect(removed).toBe(1);
    expect(message).toEqual(response({ tools: [{ name: "search", description: "d" }], nextCursor: "c2", _meta: { a: 1 } }));
    expect(input.result.tools).toHaveLength(2);
  });

  it("filters prompts by name", () => {
    const { message, removed } = filterListResults(response({ prompts: [{ name: "a" }, { name: "b" }] }), allowOnly("prompt:b"));
    expect(removed).toBe(1);
    expect(message).toEqual(response({ prompts: [{ name: "b" }] }));
  });

  it("filters resources by uri, not by name", () => {
    const predicate = allowOnly("resource:docs://public/a");
    const input = response({ resources: [{ uri: "docs://public/a", name: "A" }, { uri: "docs://internal/b", name: "docs://public/a" }] });
    const { message, removed } = filterListResults(input, predicate);
    expect(removed).toBe(1);
    expect(message).toEqual(response({ resources: [{ uri: "docs://public/a", name: "A" }] }));
    expect(predicate.asked).toEqual(["resource:docs://public/a", "resource:docs://internal/b"]);
  });

  it("filters resource templates by uriTemplate", () => {
    const input = response({ resourceTemplates: [{ uriTemplate: "docs://public/{x}", name: "p" }, { uriTemplate: "docs://internal/{x}", name: "i" }] });
    const { message, removed } = filterListResults(input, allowOnly("resource:docs://public/{x}"));
    expect(removed).toBe(1);
    expect(message).toEqual(response({ resourceTemplates: [{ uriTemplate: "docs://public/{x}", name: "p" }] }));
  });

  it("removes items whose identifying field is not a string, and items that are not objects", () => {
    const input = response({ tools: [{ name: "ok" }, { name: 5 }, { title: "no name" }, null, "ok", ["ok"], { name: ["ok"] }] });
    const { message, removed } = filterListResults(input, () => true);
    expect(removed).toBe(6);
    expect(message).toEqual(response({ tools: [{ name: "ok" }] }));
  });

  it("filters every list shape present in one result", () => {
    const input = response({ tools: [{ name: "t" }], prompts: [{ name: "p" }], resources: [{ uri: "r" }] });
    const { message, removed } = filterListResults(input, allowOnly("prompt:p"));
    expect(removed).toBe(2);
    expect(message).toEqual(response({ tools: [], prompts: [{ name: "p" }], resources: [] }));
  });

  it("returns the very same object when nothing is removed", () => {
    const input = response({ tools: [{ name: "echo" }], nextCursor: "n" });
    const outcome = filterListResults(input, () => true);
    expect(outcome.message).toBe(input);
    expect(outcome.removed).toBe(0);
  });

  it("leaves non-list results, errors, requests and non-objects untouched", () => {
    const untouched: unknown[] = [
      response({ content: [{ type: "text", text: "hi" }] }),
      response({ tools: "not a list" }),
      response(null),
      response([{ name: "x" }]),
      { jsonrpc: "2.0", id: 1, error: { code: -1, message: "tools" } },
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: { tools: [{ name: "x" }] } },
      "tools",
      null,
      42,
    ];
    for (const input of untouched) expect(filterListResults(input, () => false)).toEqual({ message: input, removed: 0 });
  });

  it("filters a list under whatever id it comes, including a notification-shaped one", () => {
    const input = { jsonrpc: "2.0", result: { tools: [{ name: "secret" }] } };
    expect(filterListResults(input, () => false)).toEqual({ message: { jsonrpc: "2.0", result: { tools: [] } }, removed: 1 });
  });

  describe("batches", () => {
    it("filters every response of a batch and counts all removals", () => {
      const batch = [
        response({ tools: [{ name: "a" }, { name: "b" }] }, 1),
        response({ content: [] }, 2),
        response({ prompts: [{ name: "p" }] }, 3),
      ];
      const { message, removed } = filterListResults(batch, allowOnly("tool:a"));
      expect(removed).toBe(2);
      expect(message).toEqual([response({ tools: [{ name: "a" }] }, 1), response({ content: [] }, 2), response({ prompts: [] }, 3)]);
      expect((message as unknown[])[1]).toBe(batch[1]);
    });

    it("returns the same array when nothing in the batch is removed", () => {
      const batch = [response({ tools: [{ name: "a" }] }), response({ content: [] })];
      expect(filterListResults(batch, () => true).message).toBe(batch);
    });
  });

  describe("hints a result must not keep once it has passed the gateway", () => {
    it("marks every cacheable result private (2026-07-28): lists and reads alike, ttlMs kept", () => {
      const list = response({ tools: [{ name: "a" }], ttlMs: 60_000, cacheScope: "public" });
      expect(filterListResults(list, () => true)).toEqual({ message: response({ tools: [{ name: "a" }], ttlMs: 60_000, cacheScope: "private" }), removed: 0 });
      const read = response({ contents: [{ uri: "docs://x", text: "t" }], ttlMs: 5, cacheScope: "shared-by-all" });
      expect((filterListResults(read, () => true).message as { result: unknown }).result).toEqual({ contents: [{ uri: "docs://x", text: "t" }], ttlMs: 5, cacheScope: "private" });
      const batch = [response({ tools: [], cacheScope: "public" }, 1), response({ content: [] }, 2)];
      expect(filterListResults(batch, () => true).message).toEqual([response({ tools: [], cacheScope: "private" }, 1), batch[1]]);
    });

    it("leaves a private result, and one without cache hints, as the same object", () => {
      for (const input of [response({ tools: [], ttlMs: 0, cacheScope: "private" }), response({ tools: [] })]) {
        expect(filterListResults(input, () => true).message).toBe(input);
      }
    });

    it("does not tell clients the server offers tasks (initialize and server/discover results)", () => {
      const capabilities = { tools: { listChanged: true }, tasks: { requests: { tools: { call: {} } } } };
      const initialize = response({ protocolVersion: "2025-11-25", capabilities, serverInfo: { name: "s", version: "1" } });
      expect(filterListResults(initialize, () => true).message).toEqual(
        response({ protocolVersion: "2025-11-25", capabilities: { tools: { listChanged: true } }, serverInfo: { name: "s", version: "1" } }),
      );
      const discover = response({ supportedVersions: ["2026-07-28"], capabilities, ttlMs: 0, cacheScope: "public" });
      expect(filterListResults(discover, () => true).message).toEqual(
        response({ supportedVersions: ["2026-07-28"], capabilities: { tools: { listChanged: true } }, ttlMs: 0, cacheScope: "private" }),
      );
    });
  });
});
