/**
 * Property: whatever the policy, the caller's roles and the shape of the request, a tool, prompt or resource the
 * caller may not use never reaches the backend, and what reaches it is exactly what the caller sent.
 *
 * Requests are single messages or JSON-RPC batches mixing uses of items (tools/call, prompts/get, resources/read,
 * resources/subscribe, resources/unsubscribe, completion/complete; as requests or as notifications), lists, pings,
 * notifications, responses to the server, malformed uses and disguised method names. They are written as raw JSON
 * text: keys in any order, any whitespace, characters spelled as `\uXXXX` escapes, and duplicate `name` / `uri`,
 * `params` or `method` keys whose last occurrence is the one a JSON parser keeps. Names include case, Unicode and
 * whitespace variants of the granted ones and names 10,000 characters long.
 *
 * The backend is a lenient MCP server on loopback HTTP (see scripted-backend.ts); the property checks what it
 * received and executed, not only what the caller was told.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { usePropertyGateway } from "./support/property-gateway.js";
import {
  fullwidth,
  jsonString,
  mayUse,
  nameArb,
  policyAndCallerArb,
  renderPolicy,
  usableNames,
  type ItemKind,
} from "./support/arbitraries.js";
import { lenientMethod } from "./support/scripted-backend.js";

const RUNS = 300;

// ---------------------------------------------------------------------------------------------------------------
// Messages, as raw JSON text
// ---------------------------------------------------------------------------------------------------------------

/** How a message is spelled: whitespace between tokens, and which characters of its strings are `\u` escapes. */
interface Spelling {
  ws: string;
  escapes: boolean[] | undefined;
}

const spellingArb: fc.Arbitrary<Spelling> = fc.record({
  ws: fc.constantFrom("", "", " ", "\n", "\t", "\r\n  "),
  escapes: fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), { nil: undefined, freq: 3 }),
});

class Json {
  constructor(private readonly spelling: Spelling) {}
  string(text: string): string {
    const { escapes } = this.spelling;
    return jsonString(text, escapes ? (i) => escapes[i % escapes.length]! : undefined);
  }
  /** An object whose members are written as given: in this order, duplicates included. */
  object(members: ReadonlyArray<readonly [string, string]>): string {
    const { ws } = this.spelling;
    return `{${ws}${members.map(([key, value]) => `${this.string(key)}${ws}:${ws}${value}`).join(`${ws},${ws}`)}${ws}}`;
  }
  array(items: readonly string[]): string {
    const { ws } = this.spelling;
    return `[${ws}${items.join(`${ws},${ws}`)}${ws}]`;
  }
}

const USES = [
  { method: "tools/call", kind: "tool", field: "name" },
  { method: "prompts/get", kind: "prompt", field: "name" },
  { method: "resources/read", kind: "resource", field: "uri" },
  { method: "resources/subscribe", kind: "resource", field: "uri" },
  { method: "resources/unsubscribe", kind: "resource", field: "uri" },
  { method: "completion/complete", kind: "prompt", field: "name" },
  { method: "completion/complete", kind: "resource", field: "uri" },
] as const;
type Use = (typeof USES)[number];

const GOVERNED = new Set([...USES.map((u) => u.method), "tools/list", "prompts/list", "resources/list", "resources/templates/list"]);

/** A message of the request, with what the model expects the gateway to make of it. */
type Element =
  | { type: "use"; use: Use; name: string; request: boolean; decoy: { where: "field" | "params" | "method"; name: string } | undefined; args: "absent" | "empty" | "some"; paramsFirst: boolean }
  | { type: "other method"; method: string; request: boolean; name: string }
  | { type: "response" }
  | { type: "malformed"; text: (json: Json, id: string | undefined) => string };

function useArb(favoured: Record<ItemKind, string[]>): fc.Arbitrary<Element> {
  return fc.constantFrom(...USES).chain((use) =>
    fc.record({
      type: fc.constant("use" as const),
      use: fc.constant(use),
      name: nameArb(use.kind, { requestOnly: true, favoured: favoured[use.kind] }),
      request: fc.boolean(),
      // The decoy is written first and dropped by JSON parsers: most useful when it is a name the caller may use.
      decoy: fc.option(fc.record({ where: fc.constantFrom("field" as const, "params" as const, "method" as const), name: favoured[use.kind].length > 0 ? fc.constantFrom(...favoured[use.kind]) : nameArb(use.kind) }), {
        nil: undefined,
        freq: 2,
      }),
      args: fc.constantFrom("absent" as const, "empty" as const, "some" as const),
      paramsFirst: fc.boolean(),
    }),
  );
}

/**
 * Method names a lenient server takes for a governed one (case, Unicode compatibility forms, whitespace: refused as
 * not found), and near names that are other methods (`tools/calls`: passed on).
 */
const METHOD_SPELLINGS = [...GOVERNED].flatMap((method) => [
  method.toUpperCase(),
  method.replace(/(^|\/)(\w)/g, (_, slash: string, ch: string) => slash + ch.toUpperCase()),
  ` ${method}`,
  `${method} `,
  `${method}\t`,
  `${method}\n`,
  method.replace("/", " / "),
  method.replace("/", "\u00a0/"),
  fullwidth(method),
  method.replace("/", "\uff0f"),
  `${method}s`,
]).filter((spelling) => !GOVERNED.has(spelling));

const otherMethodArb: fc.Arbitrary<Element> = fc.record({
  type: fc.constant("other method" as const),
  method: fc.oneof(
    fc.constantFrom(...METHOD_SPELLINGS),
    fc.constantFrom("ping", "tools/list", "prompts/list", "resources/list", "resources/templates/list", "logging/setLevel", "notifications/initialized", "notifications/cancelled"),
  ),
  request: fc.boolean(),
  name: nameArb("tool"),
});

const MALFORMED: ReadonlyArray<(json: Json, id: string | undefined) => string> = [
  ["tools/call", '{"name":42}'],
  ["tools/call", '{"name":null}'],
  ["tools/call", '{"name":["echo"]}'],
  ["tools/call", '{"name":{"name":"echo"}}'],
  ["tools/call", '["echo"]'],
  ["tools/call", undefined],
  ["tools/call", '{"name":"echo","arguments":"x"}'],
  ["tools/call", '{"name":"echo","arguments":null}'],
  ["tools/call", '{"name":"echo","arguments":[1]}'],
  ["tools/call", '{"name":"echo","name":7}'],
  ["prompts/get", '{"name":7}'],
  ["resources/read", "{}"],
  ["resources/read", '{"uri":false}'],
  ["completion/complete", '{"argument":{"name":"q","value":""}}'],
  ["completion/complete", '{"ref":{"type":"ref/tool","name":"echo"}}'],
  ["completion/complete", '{"ref":{"type":"ref/prompt"}}'],
].map(([method, params]) => (json: Json, id: string | undefined) =>
  json.object([["jsonrpc", '"2.0"'], ...(id === undefined ? [] : [["id", id] as const]), ["method", json.string(method!)], ...(params === undefined ? [] : [["params", params] as const])]),
);

function elementArb(favoured: Record<ItemKind, string[]>): fc.Arbitrary<Element> {
  return fc.oneof(
    { weight: 8, arbitrary: useArb(favoured) },
    { weight: 3, arbitrary: otherMethodArb },
    { weight: 1, arbitrary: fc.constant({ type: "response" as const }) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED).map((text) => ({ type: "malformed" as const, text })) },
  );
}

/** A completion of a resource names a template (`ref/resource`'s `uri` is a uriTemplate), judged as written. */
function completesTemplate(method: string, kind: ItemKind): boolean {
  return method === "completion/complete" && kind === "resource";
}

function paramsText(json: Json, element: Extract<Element, { type: "use" }>, name: string, decoyFirst: string | undefined): string {
  const { use } = element;
  const nameMembers: [string, string][] = [...(decoyFirst === undefined ? [] : [[use.field, json.string(decoyFirst)] as [string, string]]), [use.field, json.string(name)]];
  if (use.method === "completion/complete") {
    const ref = json.object([["type", json.string(use.kind === "prompt" ? "ref/prompt" : "ref/resource")], ...nameMembers]);
    return json.object([["ref", ref], ["argument", '{"name":"q","value":"a"}']]);
  }
  const args = element.args === "absent" ? [] : [["arguments", element.args === "empty" ? "{}" : '{"message":"hi","n":1}'] as [string, string]];
  return json.object(use.kind === "resource" ? nameMembers : [...nameMembers, ...args]);
}

/** The message's raw text, and what the model expects of it: forwarded ("pass") or refused with a JSON-RPC code. */
function render(
  element: Element,
  json: Json,
  id: string | undefined,
  mayBeUsed: (kind: ItemKind, name: string, template: boolean) => boolean,
): { text: string; outcome: { pass: true } | { pass: false; code: number; message?: string }; use?: { kind: ItemKind; name: string } } {
  const idMember: [string, string][] = id === undefined ? [] : [["id", id]];
  if (element.type === "response") return { text: json.object([["jsonrpc", '"2.0"'], ["id", '"server-1"'], ["result", "{}"]]), outcome: { pass: true } };
  if (element.type === "malformed") return { text: element.text(json, id), outcome: { pass: false, code: -32602 } };
  if (element.type === "other method") {
    const text = json.object([["jsonrpc", '"2.0"'], ...idMember, ["method", json.string(element.method)], ["params", json.object([["name", json.string(element.name)]])]]);
    const folded = lenientMethod(element.method);
    // A name that folds to a governed method but is not one is refused as not found; any other method passes.
    const disguised = !GOVERNED.has(element.method) && GOVERNED.has(folded);
    return { text, outcome: disguised ? { pass: false, code: -32601 } : { pass: true } };
  }
  const { use, name, decoy } = element;
  // Duplicate keys: the decoy comes first, the real value last (the one JSON parsers keep).
  const params: [string, string][] =
    decoy?.where === "params"
      ? [["params", paramsText(json, element, decoy.name, undefined)], ["params", paramsText(json, element, name, undefined)]]
      : [["params", paramsText(json, element, name, decoy?.where === "field" ? decoy.name : undefined)]];
  const method: [string, string][] = [...(decoy?.where === "method" ? [["method", json.string("ping")] as [string, string]] : []), ["method", json.string(use.method)]];
  const version: [string, string] = ["jsonrpc", '"2.0"'];
  const members = element.paramsFirst ? [...params, version, ...idMember, ...method] : [version, ...idMember, ...method, ...params];
  return {
    text: json.object(members),
    outcome: mayBeUsed(use.kind, name, completesTemplate(use.method, use.kind)) ? { pass: true } : { pass: false, code: -32602, message: `Unknown ${use.kind}: ${name}` },
    use: { kind: use.kind, name },
  };
}

const scenarioArb = policyAndCallerArb.chain(({ policy, claim }) => {
  const favoured = { tool: usableNames(policy, claim, "tool"), prompt: usableNames(policy, claim, "prompt"), resource: usableNames(policy, claim, "resource") };
  return fc.record({
    policy: fc.constant(policy),
    claim: fc.constant(claim),
    batch: fc.boolean(),
    elements: fc.array(elementArb(favoured), { minLength: 1, maxLength: 4 }),
    idsAsStrings: fc.boolean(),
    spelling: spellingArb,
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The gateway, its identity provider and its backend
// ---------------------------------------------------------------------------------------------------------------

const world = usePropertyGateway();

interface RpcAnswer {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

describe("uses of tools, prompts and resources", () => {
  it("never reach the backend unless the caller may use them, and reach it as the gateway read them when they may", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ policy, claim, batch, elements, idsAsStrings, spelling }) => {
        await world.usePolicy(renderPolicy(policy));
        world.backend.reset();
        world.logger.lines.length = 0;
        const messages = (batch ? elements : elements.slice(0, 1)).map((element, i) => {
          const request = element.type === "malformed" || ((element.type === "use" || element.type === "other method") && element.request);
          const id = request ? (idsAsStrings ? JSON.stringify(`r${i}`) : String(i + 1)) : undefined;
          const rendered = render(element, new Json(spelling), id, (kind, name, template) => mayUse(policy, claim, kind, name, { template }));
          return { ...rendered, id: id === undefined ? undefined : JSON.parse(id) as unknown, request };
        });
        const body = `${spelling.ws}${batch ? new Json(spelling).array(messages.map((m) => m.text)) : messages[0]!.text}${spelling.ws}`;
        const response = await world.gateway.fetch(
          new Request("http://gateway.test/mcp", {
            method: "POST",
            headers: { authorization: `Bearer ${await world.tokenFor(claim)}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
            body,
          }),
        );
        const text = await response.text();

        // Whatever the model says: every item the backend used is one the caller may use.
        for (const execution of world.backend.executed) {
          expect(mayUse(policy, claim, execution.kind, execution.name, { template: completesTemplate(execution.method, execution.kind) })).toBe(true);
        }
        // And whatever reached it is what the caller sent: byte for byte, or, when the body names a key twice, the
        // messages the gateway read (the last of each key) re-serialised, so a backend keeping the first reads them too.
        const duplicated = (batch ? elements : elements.slice(0, 1)).some((element) => element.type === "use" && element.decoy !== undefined);
        for (const received of world.backend.received) {
          if (duplicated) expect(received.body.toString()).toBe(JSON.stringify(JSON.parse(body)));
          else expect(received.body.equals(Buffer.from(body))).toBe(true);
        }

        const forwarded = messages.every((m) => m.outcome.pass);
        if (forwarded) {
          expect(world.backend.received).toHaveLength(1);
          expect(world.backend.executed.map((e) => [e.kind, e.name])).toEqual(messages.flatMap((m) => (m.use ? [[m.use.kind, m.use.name]] : [])));
          const requests = messages.filter((m) => m.id !== undefined);
          if (requests.length === 0) {
            expect(response.status).toBe(202);
          } else {
            expect(response.status).toBe(200);
            const answers = [JSON.parse(text) as RpcAnswer | RpcAnswer[]].flat();
            expect(answers.map((a) => a.id)).toEqual(requests.map((m) => m.id));
            expect(answers.every((a) => a.result !== undefined)).toBe(true);
          }
        } else {
          expect(world.backend.received).toEqual([]);
          const refusals = messages.flatMap((m) =>
            m.id === undefined ? [] : [{ id: m.id, code: m.outcome.pass ? -32600 : m.outcome.code, message: m.outcome.pass ? undefined : m.outcome.message }],
          );
          if (refusals.length === 0) {
            const first = messages.find((m) => !m.outcome.pass)!.outcome as { code: number; message?: string };
            refusals.push({ id: null, code: first.code, message: first.message });
          }
          expect(response.status).toBe(refusals.every((r) => r.id === null) ? 400 : 200);
          const parsed = JSON.parse(text) as RpcAnswer | RpcAnswer[];
          // A batch is answered with an array, a single message with one response.
          expect(Array.isArray(parsed)).toBe(batch);
          const answers = [parsed].flat();
          expect(answers.map((a) => [a.id, a.error?.code])).toEqual(refusals.map((r) => [r.id, r.code]));
          refusals.forEach((refusal, i) => {
            if (refusal.message !== undefined) expect(answers[i]?.error?.message).toBe(refusal.message);
          });
        }
        // Each run's policy was loaded as written (a failed load would keep the previous run's policy in force).
        expect(world.logger.lines.filter((line) => line.message.startsWith("policy reload failed"))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
