/**
 * Differential property: whatever JSON parser the client uses, it reads the list the gateway judged. A scripted
 * backend (a raw node:http server on loopback) answers list requests with duplicate keys on every level of the path
 * to the list: the message's own keys, `result` twice (the last with or without a list), the list key twice, an
 * item's `name` / `uri` / `uriTemplate` twice; as a JSON body or as SSE events, cut into chunks anywhere. On the
 * bytes the client received, a first-occurrence parser (json-readings.ts, on jsonc-parser's visitor) and a
 * last-occurrence one (JSON.parse) must read the same lists, holding nothing the policy denies the caller.
 *
 * And the rest of the target behaviour for backend answers: a message with duplicate keys reaches the client
 * re-serialised from what was judged (no duplicate left), JSON nested more than 128 levels is refused (a JSON body:
 * 502; an SSE event: dropped, then a final -32003 event for the pending request), a successful answer labelled with
 * a charset other than UTF-8 is 502, and a successful answer labelled `text/event-stream` whose first line is not
 * SSE is 502.
 *
 * The gateway runs in process from its real configuration, policy file and token verifier (property-gateway.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lit, nestingDepth, readFirstOccurrence, write, type Doc, type Spelling } from "../support/differential/json-readings.js";
import { cutAt } from "../support/differential/request-bytes.js";
import { sseEventsIn } from "../support/raw-mcp.js";
import { LIST_METHODS, mayUse, nameArb, policyAndCallerArb, renderPolicy, usableNames, type PolicyModel, type RolesClaim, type Shape } from "./support/arbitraries.js";
import { usePropertyGateway } from "./support/property-gateway.js";
import type { Reply } from "./support/scripted-backend.js";

const RUNS = 150;
const world = usePropertyGateway();

// ---------------------------------------------------------------------------------------------------------------
// Answers with duplicate keys on the path to the list
// ---------------------------------------------------------------------------------------------------------------

interface ItemSpec {
  name: string;
  /** Written first under the same key, dropped by JSON.parse. */
  decoy: string | undefined;
}

interface AnswerSpec {
  items: ItemSpec[];
  /** A first `result` holding these items, before the real one. */
  decoyResult: ItemSpec[] | undefined;
  /** Whether the last `result` holds the list at all (with a decoy result before it). */
  lastHasList: boolean;
  /** A first occurrence of the list key in the result, holding these items. */
  decoyList: ItemSpec[] | undefined;
  /** The message's own keys written twice: `id` (another id first), `jsonrpc`. */
  decoyId: boolean;
  decoyVersion: boolean;
  spelling: Spelling;
  sse: { eol: "\n" | "\r\n" | "\r"; eventField: boolean } | undefined;
  cuts: number[];
}

function itemDoc([, kind, field]: Shape, item: ItemSpec): Doc {
  const named: Array<[string, Doc]> = [...(item.decoy === undefined ? [] : [[field, lit(item.decoy)] as [string, Doc]]), [field, lit(item.name)]];
  return { members: kind === "resource" ? [...named, ["name", lit("label")]] : [...named, ["description", lit(`about ${item.name}`)]] };
}

function listDoc(shape: Shape, items: ItemSpec[]): Doc {
  return { items: items.map((item) => itemDoc(shape, item)) };
}

function answerDoc(shape: Shape, id: number, spec: AnswerSpec): Doc {
  const [key] = shape;
  const result: Array<[string, Doc]> = [];
  if (spec.decoyList) result.push([key, listDoc(shape, spec.decoyList)]);
  if (spec.decoyResult === undefined || spec.lastHasList) result.push([key, listDoc(shape, spec.items)]);
  result.push(["nextCursor", lit("page-2")]);
  const members: Array<[string, Doc]> = [];
  if (spec.decoyVersion) members.push(["jsonrpc", lit("1.0")]);
  members.push(["jsonrpc", lit("2.0")]);
  if (spec.decoyId) members.push(["id", lit(id + 1000)]);
  members.push(["id", lit(id)]);
  if (spec.decoyResult) members.push(["result", { members: [[key, listDoc(shape, spec.decoyResult)]] }]);
  members.push(["result", { members: result }]);
  return { members };
}

function itemSpecArb(kind: Shape[1], favoured: string[]): fc.Arbitrary<ItemSpec> {
  const name = nameArb(kind, { favoured });
  return fc.record({ name, decoy: fc.option(name, { nil: undefined, freq: 3 }) });
}

function answerSpecArb(shape: Shape, favoured: string[]): fc.Arbitrary<AnswerSpec> {
  const items = fc.array(itemSpecArb(shape[1], favoured), { maxLength: 5 });
  return fc.record({
    items,
    decoyResult: fc.option(items, { nil: undefined, freq: 3 }),
    lastHasList: fc.boolean(),
    decoyList: fc.option(items, { nil: undefined, freq: 3 }),
    decoyId: fc.boolean(),
    decoyVersion: fc.boolean(),
    spelling: fc.record({ ws: fc.constantFrom("", " ", "\n", "\t"), escapes: fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), { nil: undefined, freq: 3 }) }),
    sse: fc.option(fc.record({ eol: fc.constantFrom("\n" as const, "\r\n" as const, "\r" as const), eventField: fc.boolean() }), { nil: undefined }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
  });
}

/** An SSE event carrying `text` as its data (one data line per line of the text). */
function sseEvent(text: string, eol: string, eventField: boolean): string {
  const lines = [...(eventField ? ["event: message"] : []), ...text.split("\n").map((line) => `data: ${line}`)];
  return `${lines.join(eol)}${eol}${eol}`;
}

function reply(body: string, contentType: string, cuts: number[], status = 200): Reply {
  return { status, headers: { "content-type": contentType }, chunks: cutAt(Buffer.from(body), cuts) };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what the client got, with both parsers
// ---------------------------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON texts of the client's body: the body itself, or each SSE event's data. */
function jsonTexts(contentType: string | null, body: string): string[] {
  if ((contentType ?? "").startsWith("text/event-stream")) return sseEventsIn(body).map((event) => event.data).filter((data) => data.trim() !== "");
  return body === "" ? [] : [body];
}

interface Readings {
  first: unknown;
  last: unknown;
  duplicates: boolean;
}

function readBoth(text: string): Readings {
  const first = readFirstOccurrence(text);
  return { first: first.value, last: JSON.parse(text) as unknown, duplicates: first.duplicates };
}

/** The list a message's result holds under `key`, as one reading sees it (undefined: no such list). */
function listIn(message: unknown, key: string): unknown[] | undefined {
  if (!isObject(message) || !isObject(message.result)) return undefined;
  const list = message.result[key];
  return Array.isArray(list) ? list : undefined;
}

function expectAllowed(list: unknown[] | undefined, [, kind, field]: Shape, policy: PolicyModel, claim: RolesClaim): void {
  for (const item of list ?? []) {
    expect(isObject(item) && typeof item[field] === "string", `an item the gateway cannot judge reached the client: ${JSON.stringify(item)}`).toBe(true);
    const name = (item as Record<string, string>)[field]!;
    // A template (`uriTemplate`) is judged as written, not under the readings of a URI, as the gateway judges it.
    const template = field === "uriTemplate";
    expect(mayUse(policy, claim, kind, name, { template }), `${kind} ${JSON.stringify(name)} is denied, yet the client can read it`).toBe(true);
  }
}

/** The list the gateway must leave: the last-occurrence reading of the backend's list, less what is denied. */
function expectedList(backendText: string, [key, kind, field]: Shape, policy: PolicyModel, claim: RolesClaim): unknown[] | undefined {
  return listIn(JSON.parse(backendText), key)?.filter((item) => isObject(item) && typeof item[field] === "string" && mayUse(policy, claim, kind, item[field], { template: field === "uriTemplate" }));
}

// ---------------------------------------------------------------------------------------------------------------
// One exchange
// ---------------------------------------------------------------------------------------------------------------

const scenarioArb = policyAndCallerArb.chain(({ policy, claim }) =>
  fc.constantFrom(...Object.keys(LIST_METHODS)).chain((method) => {
    const shape = LIST_METHODS[method]!;
    return answerSpecArb(shape, usableNames(policy, claim, shape[1])).map((spec) => ({
      policy,
      claim,
      method,
      spec,
      [fc.toStringMethod]: () => {
        const text = backendAnswer(shape, spec).text;
        const shown = (value: string) => (value.length > 600 ? `${value.slice(0, 600)}...` : value);
        return `policy ${shown(renderPolicy(policy).replace(/\n/g, " "))}\n    caller ${JSON.stringify(claim)}\n    ${method} answered (${spec.sse ? "SSE" : "JSON"}): ${shown(text)}`;
      },
    }));
  }),
);

interface Exchange {
  status: number;
  contentType: string | null;
  body: string;
}

async function ask(method: string, claim: RolesClaim, policy: PolicyModel, answer: (id: unknown) => Reply): Promise<Exchange> {
  await world.usePolicy(renderPolicy(policy));
  world.backend.reset();
  world.backend.script = (_request, parsed) => (isObject(parsed) && parsed.method === method ? answer(parsed.id) : undefined);
  const response = await world.gateway.fetch(
    new Request("http://gateway.test/mcp", {
      method: "POST",
      headers: { authorization: `Bearer ${await world.tokenFor(claim)}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method }),
    }),
  );
  return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() };
}

function backendAnswer(shape: Shape, spec: AnswerSpec): { text: string; reply: Reply } {
  const text = write(answerDoc(shape, 1, spec), spec.spelling);
  const body = spec.sse ? sseEvent(text, spec.sse.eol, spec.sse.eventField) : text;
  return { text, reply: reply(body, spec.sse ? "text/event-stream" : "application/json", spec.cuts) };
}

describe("list results with duplicate keys", () => {
  it("read the same, with nothing denied, by a first-occurrence and a last-occurrence JSON parser", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ policy, claim, method, spec }) => {
        const shape = LIST_METHODS[method]!;
        const { reply: answer } = backendAnswer(shape, spec);
        const got = await ask(method, claim, policy, () => answer);
        if (got.status !== 200) return;
        for (const text of jsonTexts(got.contentType, got.body)) {
          const { first, last } = readBoth(text);
          expect(listIn(first, shape[0]), "both parsers read the same list").toEqual(listIn(last, shape[0]));
          expect(isObject(first) && first.id, "both parsers read the same id").toBe(isObject(last) && last.id);
          expectAllowed(listIn(first, shape[0]), shape, policy, claim);
          expectAllowed(listIn(last, shape[0]), shape, policy, claim);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("reach the client re-serialised from what was judged: the judged list, and no duplicate key left", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ policy, claim, method, spec }) => {
        const shape = LIST_METHODS[method]!;
        const { text: sent, reply: answer } = backendAnswer(shape, spec);
        const got = await ask(method, claim, policy, () => answer);
        expect(got.status, got.body.slice(0, 300)).toBe(200);
        const texts = jsonTexts(got.contentType, got.body);
        expect(texts).toHaveLength(1);
        const { last, duplicates } = readBoth(texts[0]!);
        expect(duplicates, `duplicate keys reached the client: ${texts[0]!.slice(0, 300)}`).toBe(false);
        expect(listIn(last, shape[0])).toEqual(expectedList(sent, shape, policy, claim));
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Depth, charsets and event streams that are not
// ---------------------------------------------------------------------------------------------------------------

const ALLOW_ALL: PolicyModel = { grants: [{ kind: "tool", pattern: "*", roles: ["*"], form: "list" }], rules: [], placement: "rules", format: "yaml" };
const ANYONE: RolesClaim = { form: "absent" };
const TOOLS = LIST_METHODS["tools/list"]!;

function toolsAnswer(id: unknown, extra: Doc | undefined): string {
  const result: Array<[string, Doc]> = [["tools", listDoc(TOOLS, [{ name: "echo", decoy: undefined }])]];
  if (extra) result.push(["_meta", { members: [["deep", extra]] }]);
  return write({ members: [["jsonrpc", lit("2.0")], ["id", lit(id)], ["result", { members: result }]] }, { ws: "", escapes: undefined });
}

function nested(depth: number): Doc {
  let doc: Doc = lit(0);
  for (let i = 0; i < depth; i++) doc = i % 2 === 0 ? { items: [doc] } : { members: [["x", doc]] };
  return doc;
}

describe("backend answers the gateway cannot judge safely", () => {
  it("JSON nested more than 128 levels: a JSON body is 502; an SSE event is dropped and the request gets a final -32003 event", async () => {
    const depthArb = fc.oneof(fc.integer({ min: 0, max: 110 }), fc.integer({ min: 140, max: 2000 }));
    await fc.assert(
      fc.asyncProperty(depthArb, fc.boolean(), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (extra, sse, cuts) => {
        const text = toolsAnswer(1, nested(extra));
        const depth = nestingDepth(JSON.parse(text));
        const got = await ask("tools/list", ANYONE, ALLOW_ALL, () => reply(sse ? sseEvent(text, "\n", true) : text, sse ? "text/event-stream" : "application/json", cuts));
        if (depth <= 120) {
          expect(got.status).toBe(200);
          expect(jsonTexts(got.contentType, got.body).map((t) => listIn(JSON.parse(t), "tools"))).toEqual([[{ name: "echo", description: "about echo" }]]);
        } else if (!sse) {
          expect(got.status).toBe(502);
          expect(JSON.parse(got.body)).toMatchObject({ error: { code: -32003 } });
        } else {
          expect(got.status).toBe(200);
          const messages = jsonTexts(got.contentType, got.body).map((t) => JSON.parse(t) as Record<string, unknown>);
          expect(messages).toHaveLength(1);
          expect(messages[0]).toMatchObject({ id: 1, error: { code: -32003 } });
        }
      }),
      { numRuns: 40 },
    );
  });

  it("a successful answer labelled with a charset other than UTF-8 is 502; UTF-8 or none passes", async () => {
    const labels = fc.record({
      type: fc.constantFrom("application/json", "text/event-stream"),
      charset: fc.constantFrom(undefined, "utf-8", "UTF-8", "utf8", "utf-16", "utf-16le", "utf-7", "latin1", "iso-8859-1", "windows-1252", "us-ascii", "shift_jis"),
    });
    await fc.assert(
      fc.asyncProperty(labels, async ({ type, charset }) => {
        const text = toolsAnswer(1, undefined);
        const label = charset === undefined ? type : `${type}; charset=${charset}`;
        const got = await ask("tools/list", ANYONE, ALLOW_ALL, () => reply(type === "text/event-stream" ? sseEvent(text, "\n", true) : text, label, []));
        const utf8 = charset === undefined || ["utf-8", "utf8"].includes(charset.toLowerCase());
        expect(got.status, got.body.slice(0, 200)).toBe(utf8 ? 200 : 502);
      }),
      { numRuns: 40 },
    );
  });

  it("a successful POST answer labelled text/event-stream whose first line is not SSE is 502", async () => {
    const firstLines = fc.oneof(
      fc.constant({ sse: false, body: toolsAnswer(1, undefined) }),
      fc.constantFrom("<html><body>oops</body></html>", "HTTP/1.1 200 OK", "garbage", "[1,2,3]").map((line) => ({ sse: false, body: `${line}\n\n` })),
      fc.constantFrom("data: ", "event: message\n", ": keep-alive\n", "id: 1\n", "retry: 100\n").map((start) => ({ sse: true, body: `${start}${sseEvent(toolsAnswer(1, undefined), "\n", false)}` })),
    );
    await fc.assert(
      fc.asyncProperty(firstLines, async ({ sse, body }) => {
        const got = await ask("tools/list", ANYONE, ALLOW_ALL, () => reply(body, "text/event-stream", []));
        expect(got.status, body.slice(0, 80)).toBe(sse ? 200 : 502);
      }),
      { numRuns: 30 },
    );
  });
});
