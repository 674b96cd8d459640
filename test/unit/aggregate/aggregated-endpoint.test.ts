/**
 * The aggregated endpoint attacked through its names, URIs and cursors, with scripted servers whose lists are known
 * exactly: servers `a`, `a-b` and `ab` (names that are prefixes of each other), `a` with a tool `b_c` and `a-b` with a
 * tool `c` (the classic prefix trick), URIs listed by several servers, and a server `p` whose lists come one item a
 * page. Every assertion on what ran is made on every server's record of what it received.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MCP_HEADERS, startGateway, type TestGateway } from "../../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../../support/identity-provider.js";
import { startScriptedServer, type ScriptedServer } from "../../support/scripted-mcp-server.js";

const POLICY = `
tools:
  b_c: ["*"]
  c: ["*"]
  x: ["*"]
  t1: ["*"]
  t2: ["*"]
  t3: ["*"]
  t9: ["*"]
resources:
  "only://*": ["*"]
  "both://*": ["*"]
  "tpl://*": ["*"]
servers:
  a-b:
    resources: { "shared://*": ["*"] }
`;

let idp: TestIdentityProvider;
const servers = {} as Record<"a" | "a-b" | "ab" | "p", ScriptedServer>;
let gateway: TestGateway;
let other: TestGateway;
let ada: string;
let bob: string;
let dir: string;

const ORDER = ["a", "a-b", "ab", "p"] as const;

function env(): Record<string, string> {
  return {
    MCP_BACKENDS: JSON.stringify(ORDER.map((name) => ({ name, url: servers[name].url }))),
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: join(dir, "policy.yaml"),
  };
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  dir = await mkdtemp(join(tmpdir(), "aggregate-"));
  await writeFile(join(dir, "policy.yaml"), POLICY);
  [servers.a, servers["a-b"], servers.ab, servers.p] = await Promise.all([
    startScriptedServer("a", { tools: ["b_c", "secret", "x"], resources: ["only://a", "shared://one", "both://one"], templates: ["tpl://{id}"] }),
    startScriptedServer("a-b", { tools: ["c", "secret"], resources: ["shared://one", "both://one", "only://ab"], templates: ["tpl://{id}"] }),
    startScriptedServer("ab", { tools: ["x", "b_c"], resources: ["both://one"] }),
    startScriptedServer("p", { tools: ["t1", "t2", "t3"], resources: ["only://p1", "only://p2"], pageSize: 1 }),
  ]);
  gateway = await startGateway(env());
  other = await startGateway(env());
  [ada, bob] = await Promise.all([idp.token({ subject: "ada", expiresIn: "1h" }), idp.token({ subject: "bob", expiresIn: "1h" })]);
});

afterAll(async () => {
  await Promise.all([gateway?.close(), other?.close()]);
  await Promise.all(Object.values(servers).map((server) => server.close()));
  await idp?.close();
});

interface Rpc {
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A stateless JSON-RPC request to the aggregated endpoint (no session: every server takes part). */
async function rpc(method: string, params: Record<string, unknown> = {}, token = ada, url = gateway.url): Promise<Rpc> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, "mcp-protocol-version": "2025-06-18" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(200);
  return (await response.json()) as Rpc;
}

/** Every page of a list, names collected. */
async function everyPage(method: string, key: string, field: string, token = ada): Promise<{ names: string[]; pages: Rpc[] }> {
  const names: string[] = [];
  const pages: Rpc[] = [];
  let cursor: string | undefined;
  do {
    const page = await rpc(method, cursor ? { cursor } : {}, token);
    pages.push(page);
    expect(page.error, JSON.stringify(page)).toBeUndefined();
    names.push(...((page.result?.[key] as Array<Record<string, string>>) ?? []).map((item) => item[field] as string));
    cursor = page.result?.nextCursor as string | undefined;
  } while (cursor && pages.length < 20);
  return { names, pages };
}

/** What every server received of one method since the marks. */
function receivedSince(marks: Record<string, number>, method: string) {
  return Object.fromEntries(
    ORDER.map((name) => [name, servers[name].received.slice(marks[name]).filter(({ message }) => message.method === method).map(({ message }) => message.params)]),
  );
}
const mark = () => Object.fromEntries(ORDER.map((name) => [name, servers[name].received.length]));
const ranSince = (marks: Record<string, string[]>) => Object.fromEntries(ORDER.map((name) => [name, servers[name].ran.slice(marks[name]?.length ?? 0)]));
const ranMark = () => Object.fromEntries(ORDER.map((name) => [name, [...servers[name].ran]]));

describe("prefixed names", () => {
  it("lists every server's tools under <server>_<name>, prefixes that are prefixes of each other apart, denied ones nowhere", async () => {
    const { names } = await everyPage("tools/list", "tools", "name");
    expect(names.sort()).toEqual(["a-b_c", "a_b_c", "a_x", "ab_b_c", "ab_x", "p_t1", "p_t2", "p_t3"].sort());
  });

  it("routes a_b_c to a's b_c and a-b_c to a-b's c, each to that server alone", async () => {
    for (const [shown, server, own] of [
      ["a_b_c", "a", "b_c"],
      ["a-b_c", "a-b", "c"],
      ["ab_x", "ab", "x"],
      ["ab_b_c", "ab", "b_c"],
      ["a_x", "a", "x"],
    ] as const) {
      const before = mark();
      const answer = await rpc("tools/call", { name: shown, arguments: {} });
      expect(answer.result, shown).toEqual({ content: [{ type: "text", text: `${server} ran ${own}` }] });
      const calls = receivedSince(before, "tools/call");
      expect(calls, shown).toEqual(Object.fromEntries(ORDER.map((name) => [name, name === server ? [{ name: own, arguments: {} }] : []])));
    }
  });

  it("refuses names of no server, names that borrow a prefix, and denied tools, and sends them to no server", async () => {
    const before = mark();
    const refused = [
      "a-b_secret", // denied on a-b
      "a_secret", // denied on a
      "a_b_secret", // a's "b_secret", which the policy does not grant
      "a-_c", // no server a-
      "A_b_c", // names are lower case
      "ab_", // no tool name
      "_b_c", // no server name
      "a", // no separator
      "a-b", // a server, no tool
      "b_c", // an unprefixed name
      "abc_x", // a server name that is none configured, though it starts with one
      "a\u200b_b_c", // a zero-width space in the server's name
      "a_b_c\u0000", // a NUL after the tool's name, which the policy does not grant
    ];
    for (const name of refused) {
      const answer = await rpc("tools/call", { name, arguments: {} });
      expect(answer.error, name).toMatchObject({ code: -32602, message: expect.stringContaining(`Unknown tool: ${name}`) });
    }
    expect(receivedSince(before, "tools/call")).toEqual({ a: [], "a-b": [], ab: [], p: [] });
  });

  it("a tool a server does not have but the policy grants reaches only the server its prefix names", async () => {
    // a-b has no b_c; the policy grants b_c everywhere, so the name goes to a-b (which refuses it) and to nobody else.
    const before = mark();
    const answer = await rpc("tools/call", { name: "a-b_b_c", arguments: {} });
    expect(answer.error).toMatchObject({ code: -32602 });
    expect(receivedSince(before, "tools/call")).toEqual({ a: [], "a-b": [{ name: "b_c", arguments: {} }], ab: [], p: [] });
  });
});

describe("resources listed by several servers", () => {
  it("are the first server's (configuration order): the others' entries are left out and named in _meta shadowed", async () => {
    const { names, pages } = await everyPage("resources/list", "resources", "uri");
    expect(names.filter((uri) => uri === "both://one")).toHaveLength(1);
    const shadowed = pages.flatMap((page) => ((page.result?._meta as Record<string, unknown> | undefined)?.["mcp-sso-gateway/shadowed"] as unknown[]) ?? []);
    expect(shadowed).toEqual([
      { server: "a-b", uri: "both://one", ownedBy: "a" },
      { server: "ab", uri: "both://one", ownedBy: "a" },
    ]);
    const before = ranMark();
    expect((await rpc("resources/read", { uri: "both://one" })).result).toMatchObject({ contents: [{ text: "a content of both://one" }] });
    expect(ranSince(before)).toEqual({ a: ["resource:both://one"], "a-b": [], ab: [], p: [] });
  });

  it("a URI whose first lister's entry is denied is shown nowhere, read from nowhere, and never named as shadowed", async () => {
    // shared://one is a's (first lister), which the policy denies; a-b's entry, granted, must not stand in for it:
    // the read would go to a, and be refused.
    const { names, pages } = await everyPage("resources/list", "resources", "uri");
    expect(names).not.toContain("shared://one");
    expect(JSON.stringify(pages)).not.toContain("shared://one");
    const before = mark();
    expect((await rpc("resources/read", { uri: "shared://one" })).error).toMatchObject({ code: -32602 });
    expect(receivedSince(before, "resources/read")).toEqual({ a: [], "a-b": [], ab: [], p: [] });
  });

  it("a template listed by two servers is the first's; a URI it expands to is read from that server alone", async () => {
    const { names, pages } = await everyPage("resources/templates/list", "resourceTemplates", "uriTemplate");
    expect(names).toEqual(["tpl://{id}"]);
    const shadowed = pages.flatMap((page) => ((page.result?._meta as Record<string, unknown> | undefined)?.["mcp-sso-gateway/shadowed"] as unknown[]) ?? []);
    expect(shadowed).toEqual([{ server: "a-b", uriTemplate: "tpl://{id}", ownedBy: "a" }]);
    const before = ranMark();
    expect((await rpc("resources/read", { uri: "tpl://42" })).result).toMatchObject({ contents: [{ text: "a content of tpl://42" }] });
    expect(ranSince(before)).toEqual({ a: ["resource:tpl://42"], "a-b": [], ab: [], p: [] });
  });
});

describe("list cursors", () => {
  async function firstCursor(method = "tools/list", token = ada): Promise<string> {
    const page = await rpc(method, {}, token);
    const cursor = page.result?.nextCursor;
    expect(typeof cursor, JSON.stringify(page)).toBe("string");
    return cursor as string;
  }

  it("carry only the servers with more pages: a second page asks p alone", async () => {
    const cursor = await firstCursor();
    const before = mark();
    const second = await rpc("tools/list", { cursor });
    expect((second.result?.tools as Array<{ name: string }>).map((t) => t.name)).toEqual(["p_t2"]);
    expect(receivedSince(before, "tools/list")).toEqual({ a: [], "a-b": [], ab: [], p: [{ cursor: "at-1" }] });
  });

  it("refuse another caller's cursor, another list's, an altered one, a server's own, and one sealed by another gateway", async () => {
    const cursor = await firstCursor();
    const resourcesCursor = await firstCursor("resources/list");
    const before = mark();
    const attempts: Array<[string, string, string, string]> = [
      ["another caller", "tools/list", cursor, bob],
      ["another list", "tools/list", resourcesCursor, ada],
      ["another list (prompts)", "prompts/list", cursor, ada],
      ["altered", "tools/list", `${cursor.slice(0, -3)}${cursor.endsWith("AAA") ? "BBB" : "AAA"}`, ada],
      ["truncated", "tools/list", cursor.slice(0, -1), ada],
      ["a server's own cursor", "tools/list", "at-1", ada],
      ["another sealing prefix", "tools/list", `s2${cursor.slice(2)}`, ada],
    ];
    for (const [why, method, forged, token] of attempts) {
      expect((await rpc(method, { cursor: forged }, token)).error, why).toMatchObject({ code: -32602, message: "Invalid params: unknown cursor" });
    }
    // Another gateway with its own session key never opens this one's cursors.
    expect((await rpc("tools/list", { cursor }, ada, other.url)).error).toMatchObject({ code: -32602 });
    for (const method of ["tools/list", "prompts/list", "resources/list"]) {
      expect(receivedSince(before, method), method).toEqual({ a: [], "a-b": [], ab: [], p: [] });
    }
  });

  it("replayed after the server's list changed, reach that server alone with its own cursor, and the new page is judged", async () => {
    const cursor = await firstCursor();
    servers.p.set({ tools: ["t1", "secret", "t9"], resources: ["only://p1", "only://p2"] });
    try {
      const before = mark();
      const replayed = await rpc("tools/list", { cursor });
      // p's page at-1 is now its denied "secret": removed, with p's next cursor kept for the page after.
      expect(replayed.result?.tools).toEqual([]);
      expect(typeof replayed.result?.nextCursor).toBe("string");
      const last = await rpc("tools/list", { cursor: replayed.result?.nextCursor as string });
      expect((last.result?.tools as Array<{ name: string }>).map((t) => t.name)).toEqual(["p_t9"]);
      expect(last.result?.nextCursor).toBeUndefined();
      expect(receivedSince(before, "tools/list")).toEqual({ a: [], "a-b": [], ab: [], p: [{ cursor: "at-1" }, { cursor: "at-2" }] });
    } finally {
      servers.p.set({ tools: ["t1", "t2", "t3"], resources: ["only://p1", "only://p2"] });
    }
  });
});

describe("a URI two servers list on different pages", () => {
  let late: ScriptedServer;
  let paged: TestGateway;

  beforeAll(async () => {
    // p lists only://p2 on its second page; late lists it on its first, which merges into the aggregated first page.
    late = await startScriptedServer("late", { resources: ["only://p2", "only://late"] });
    paged = await startGateway({ ...env(), MCP_BACKENDS: JSON.stringify([{ name: "p", url: servers.p.url }, { name: "late", url: late.url }]) });
  });
  afterAll(async () => {
    await paged?.close();
    await late?.close();
  });

  it("is shown once, as the first server's, on whichever page that server lists it, and read from it", async () => {
    const uris: string[] = [];
    const shadowed: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rpc("resources/list", cursor ? { cursor } : {}, ada, paged.url);
      uris.push(...((page.result?.resources as Array<{ uri: string }>) ?? []).map((r) => r.uri));
      shadowed.push(...(((page.result?._meta as Record<string, unknown> | undefined)?.["mcp-sso-gateway/shadowed"] as unknown[]) ?? []));
      cursor = page.result?.nextCursor as string | undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(uris.sort()).toEqual(["only://late", "only://p1", "only://p2"]);
    expect(shadowed).toEqual([{ server: "late", uri: "only://p2", ownedBy: "p" }]);
    const ranBefore = { p: servers.p.ran.length, late: late.ran.length };
    expect((await rpc("resources/read", { uri: "only://p2" }, ada, paged.url)).result).toMatchObject({ contents: [{ text: "p content of only://p2" }] });
    expect([servers.p.ran.slice(ranBefore.p), late.ran.slice(ranBefore.late)]).toEqual([["resource:only://p2"], []]);
  });
});
