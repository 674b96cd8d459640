/**
 * Differential property: the gateway and the MCP server behind it read every request the same way, so a denied tool,
 * prompt or resource never runs however the request is spelled.
 *
 * The gateway runs as `serve` runs it (node:http, the local adapter) in front of four real backends, each behind a
 * byte-exact wire tap: the v1 SDK behind `createMcpExpressApp()` (express 5), the v1 SDK behind express 4's
 * `express.json()`, the v2 SDK with its node transport, and server-everything (see test/support/differential/).
 * Requests are written as bytes: Content-Type spellings (charset with spaces or tabs around `=`, quoted, escaped,
 * repeated, inside another parameter's quoted value, other charsets and aliases, case), bodies that read differently
 * in UTF-8 and in UTF-7, UTF-16, Latin-1 or UTF-7 bytes of the whole text, byte-order marks, Content-Encoding
 * headers (with the body compressed or not), chunked framing cut anywhere, resource URI spellings (case, tab, CR,
 * LF, spaces, percent-encoding, dot segments, backslashes, `localhost`), deep nesting, duplicate keys at every level
 * of the message and `\u` escapes in methods, names and keys.
 *
 * The oracle is the gateway's own reading as the target behaviour defines it: the bytes decoded as UTF-8 and parsed
 * with JSON.parse (a duplicate key's last occurrence wins), the policy decided by the README's semantics
 * (arbitraries.ts `mayUse`), a resource URI allowed only when every reading of it is (as sent, resolved by WHATWG URL
 * parsing, percent-decoded, and combinations) and never with control characters, spaces or backslashes. For each
 * request:
 * - whatever any backend handler executed is something the caller may use, and is exactly what the oracle read
 *   (method, name or resolved URI, arguments), and what the gateway's access-log line names;
 * - a request the target refuses (415 for a label or coding, 400 for unparsable or too deeply nested JSON, -32602 for
 *   a denied item) reaches no backend at all;
 * - a request the target passes reaches the backend once, as `Content-Type: application/json` with a Content-Length
 *   the gateway wrote, carrying the decoded text (re-serialised from what was judged when it has duplicate keys), and
 *   a canonical use of a registered item is executed exactly once.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { everythingExecution, startEverythingBackend } from "../support/differential/everything-backend.js";
import { lit, nestingDepth, readFirstOccurrence, write, type Doc, type Spelling } from "../support/differential/json-readings.js";
import {
  REFUSED_URI_CHARACTER,
  acceptedContentCoding,
  acceptedContentType,
  bodyEncodingArb,
  codedBytes,
  contentCodingArb,
  anyCharsetArb,
  contentTypeArb,
  encodeText,
  postBytes,
  resolvedUri,
  uriReadings,
  utf7CharsetArb,
  utf7Polyglot,
  type ContentCoding,
  type RawAnswer,
} from "../support/differential/request-bytes.js";
import { startSdkBackend, type HandlerRecord, type SdkBackendKind } from "../support/differential/sdk-backends.js";
import type { WireRequest, WireTap } from "../support/differential/wire-tap.js";
import { gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { messagesIn, openRawSession } from "../support/raw-mcp.js";
import { mayUse, renderPolicy, tokenClaims, type ItemKind, type PolicyModel, type RolesClaim } from "./support/arbitraries.js";

/** Runs per property (each is one request through the gateway to a real backend): more where a miss hides an exploit. */
const SAFETY_RUNS = 40;
const TARGET_RUNS = 20;
const PROTOCOL_VERSION = "2025-06-18";

// ---------------------------------------------------------------------------------------------------------------
// What each backend serves, and the policies over it
// ---------------------------------------------------------------------------------------------------------------

type Args = ReadonlyArray<readonly [string, unknown]>;

interface Profile {
  /** Registered tools and prompts, each with generators of valid arguments (as key/value pairs, in order). */
  tools: Record<string, fc.Arbitrary<Args>>;
  prompts: Record<string, fc.Arbitrary<Args>>;
  /** Resources by canonical URI (what the server lists or its template serves). */
  resources: readonly string[];
  /** A prefix whose resources the allow-list grants, and resources it does not grant, to reach by traversal. */
  publicPrefix: string;
  outside: readonly string[];
  /** The employee's allow-list and the deny-list: what each leaves out. */
  granted: { tool: string[]; prompt: string[]; resource: string[] };
  denied: { tool: string[]; prompt: string[]; resource: string[] };
  /** The record the server's handler makes of an oracle-read use it executes (server-everything reports less). */
  record(use: OracleUse): HandlerRecord | undefined;
}

const textArb = fc.oneof(
  fc.constantFrom("hi", "caf\u00e9", "+AGE-", "a+b", "\u{1F600}", 'quote"and\\slash', "line\nbreak", "\u2028", "x".repeat(300)),
  fc.string({ maxLength: 8 }),
);
const intArb = fc.integer({ min: -1000, max: 1000 });
const noteArb = fc.option(textArb.map((note) => [["note", note] as const]), { nil: [] as const });

const SDK_PROFILE: Profile = {
  tools: {
    echo: fc.tuple(textArb, noteArb).map(([message, note]) => [["message", message], ...note]),
    add: fc.tuple(intArb, intArb).map(([a, b]) => [["a", a], ["b", b]]),
    delete_everything: fc.option(fc.boolean(), { nil: undefined }).map((confirm) => (confirm === undefined ? [] : [["confirm", confirm]])),
  },
  prompts: {
    summarize: textArb.map((text) => [["text", text]]),
    secret_plan: textArb.map((target) => [["target", target]]),
  },
  resources: ["file:///public/readme", "file:///public/notes", "file:///public/caf%C3%A9", "file:///secret", "file:///internal/roadmap"],
  publicPrefix: "file:///public/",
  outside: ["file:///secret", "file:///internal/roadmap"],
  granted: { tool: ["echo", "add"], prompt: ["summarize"], resource: ["file:///public/*"] },
  denied: { tool: ["delete_everything"], prompt: ["secret_plan"], resource: ["file:///secret", "file:///internal/roadmap"] },
  record(use) {
    if (use.method === "resources/read") return { method: use.method, name: resolvedUri(use.uri) ?? use.uri };
    if (use.method === "ping") return undefined;
    return { method: use.method, name: use.name, arguments: use.arguments ?? {} };
  },
};

const EVERYTHING_PROFILE: Profile = {
  tools: {
    echo: textArb.map((message) => [["message", message]]),
    "get-sum": fc.tuple(intArb, intArb).map(([a, b]) => [["a", a], ["b", b]]),
    "get-env": fc.constant([]),
  },
  prompts: {
    "args-prompt": fc.tuple(textArb, fc.option(textArb, { nil: undefined })).map(([city, state]) => [["city", city], ...(state === undefined ? [] : [["state", state] as const])]),
    "simple-prompt": fc.constant([]),
  },
  resources: ["demo://resource/dynamic/text/1", "demo://resource/dynamic/text/2", "demo://resource/dynamic/blob/1", "demo://resource/static/document/instructions.md"],
  publicPrefix: "demo://resource/dynamic/text/",
  outside: ["demo://resource/dynamic/blob/1", "demo://resource/static/document/instructions.md"],
  granted: { tool: ["echo", "get-sum"], prompt: ["args-prompt"], resource: ["demo://resource/dynamic/text/*"] },
  denied: { tool: ["get-env"], prompt: ["simple-prompt"], resource: ["demo://resource/dynamic/blob/1", "demo://resource/static/document/instructions.md"] },
  record(use) {
    if (use.method === "resources/read") return { method: use.method, name: resolvedUri(use.uri) ?? use.uri };
    if (use.method === "ping") return undefined;
    const args = (use.arguments ?? {}) as Record<string, unknown>;
    // What the server's answers reveal of the arguments: echo's message, get-sum's numbers, args-prompt's location.
    if (use.name === "echo") return { method: use.method, name: use.name, arguments: { message: args.message } };
    if (use.name === "args-prompt") return { method: use.method, name: use.name, arguments: { location: `${String(args.city)}${args.state ? `, ${String(args.state)}` : ""}` } };
    if (use.name === "get-sum") return { method: use.method, name: use.name, arguments: { a: args.a, b: args.b } };
    return { method: use.method, name: use.name, arguments: {} };
  },
};

/** The caller's roles: the employee the allow-list grants to, an admin granted everything, or someone else. */
const claimArb: fc.Arbitrary<RolesClaim> = fc.subarray(["employee", "admin", "guest"]).map((roles) => ({ form: "list", roles, junk: false }));

function policyArb(profile: Profile): fc.Arbitrary<PolicyModel> {
  const kinds: ItemKind[] = ["tool", "prompt", "resource"];
  const allowList: PolicyModel = {
    grants: kinds.flatMap((kind) => [
      ...profile.granted[kind].map((pattern) => ({ kind, pattern, roles: ["employee"], form: "list" as const })),
      { kind, pattern: "*", roles: ["admin"], form: "list" as const },
    ]),
    rules: [],
    placement: "rules",
    format: "yaml",
  };
  const denyList: PolicyModel = {
    grants: [],
    rules: kinds.flatMap((kind) => profile.denied[kind].map((name) => ({ effect: "deny" as const, kind, name, role: undefined, viaUri: kind === "resource", bare: false }))),
    placement: "rules",
    format: "yaml",
  };
  return fc.constantFrom(allowList, denyList);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages, written as raw JSON with duplicates, escapes and nesting
// ---------------------------------------------------------------------------------------------------------------

function nested(depth: number): Doc {
  let doc: Doc = lit(0);
  for (let i = 0; i < depth; i++) doc = { items: [doc] };
  return doc;
}

/** A use of an item (or a ping), and where first occurrences that a last-occurrence parser drops are written. */
interface UseSpec {
  method: "tools/call" | "prompts/get" | "resources/read" | "ping";
  /** Tool or prompt name, or resource URI. */
  target: string;
  args: Args | undefined;
  decoys: {
    method?: string;
    params?: string;
    target?: string;
    /** Keys of the arguments written twice, first with the decoy value. */
    args: Array<readonly [string, unknown]>;
  };
  paramsFirst: boolean;
  /** Depth of a nested array added to the params (0: none). */
  deep: number;
}

function paramsDoc(spec: UseSpec, target: string, targetDecoy: string | undefined): Doc {
  const field = spec.method === "resources/read" ? "uri" : "name";
  const members: Array<[string, Doc]> = [];
  if (targetDecoy !== undefined) members.push([field, lit(targetDecoy)]);
  members.push([field, lit(target)]);
  if (spec.args !== undefined) {
    const args: Array<[string, Doc]> = [];
    for (const [key, value] of spec.decoys.args) args.push([key, lit(value)]);
    for (const [key, value] of spec.args) args.push([key, lit(value)]);
    if (spec.deep > 0) args.push(["deep", nested(spec.deep)]);
    members.push(["arguments", { members: args }]);
  } else if (spec.deep > 0) {
    members.push(["_meta", { members: [["deep", nested(spec.deep)]] }]);
  }
  return { members };
}

function messageDoc(spec: UseSpec, id: number): Doc {
  const method: Array<[string, Doc]> = [...(spec.decoys.method === undefined ? [] : [["method", lit(spec.decoys.method)] as [string, Doc]]), ["method", lit(spec.method)]];
  const params: Array<[string, Doc]> =
    spec.method === "ping" && spec.deep === 0
      ? []
      : [
          ...(spec.decoys.params === undefined ? [] : [["params", paramsDoc(spec, spec.decoys.params, undefined)] as [string, Doc]]),
          ["params", paramsDoc(spec, spec.target, spec.decoys.target)],
        ];
  const head: Array<[string, Doc]> = [["jsonrpc", lit("2.0")], ["id", lit(id)]];
  return { members: spec.paramsFirst ? [...params, ...head, ...method] : [...head, ...method, ...params] };
}

/** Names a careless reader would take for a registered one (they are other, unregistered names). */
function nearNames(name: string): string[] {
  return [name.toUpperCase(), `${name} `, `${name}\u200b`, `\ufeff${name}`, name.replace(/e/, "\u0435")];
}

function nameArb(names: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom(...names.flatMap(nearNames)) });
}

/** Resource URIs: canonical ones, spelled otherwise, and ways out of the granted prefix. */
function uriArb(profile: Profile): fc.Arbitrary<string> {
  const canonical = fc.constantFrom(...profile.resources);
  const traversals = ["..", "%2e%2e", ".%2E", "%2E.", ".\t.", "..\t", "\t..", ".\n.", "..\r", "%252e%252e", "..\\", "\\..", "%5c.."];
  // From inside the granted prefix back to the root, then down to a resource outside it.
  const up = new URL(profile.publicPrefix).pathname.split("/").filter(Boolean).length;
  const traversal = fc.tuple(fc.constantFrom(...traversals), fc.constantFrom(...profile.outside)).map(
    ([dots, outside]) => `${profile.publicPrefix}${`${dots}/`.repeat(up)}${new URL(outside).pathname.slice(1)}`,
  );
  type Transform = (uri: string, at: number) => string;
  const insert = (text: string): Transform => (uri, at) => {
    const i = Math.max(uri.indexOf("://") + 3, at % (uri.length + 1));
    return uri.slice(0, i) + text + uri.slice(i);
  };
  const transforms: Transform[] = [
    (uri) => uri.replace(/^[a-z]+/, (scheme) => scheme.toUpperCase()),
    (uri) => uri.replace(/^([a-z]+)/, (scheme) => scheme[0]!.toUpperCase() + scheme.slice(1)),
    (uri) => uri.replace(/^file:\/\/\//, "file://localhost/").replace(/^file:\/\/localhost\/$/, "file://localhost/"),
    (uri) => uri.replace(/^file:\/\/\//, "file://LOCALHOST/"),
    insert("\t"),
    insert("\n"),
    insert("\r"),
    insert(" "),
    insert("\u0001"),
    insert("\u00a0"),
    (uri) => ` ${uri}`,
    (uri) => `${uri}\t`,
    (uri) => `${uri}\u0000`,
    (uri, at) => {
      // One path letter percent-encoded.
      const start = uri.indexOf("/", uri.indexOf("://") + 3);
      const letters = [...uri.slice(start)].map((ch, i) => (/[a-z]/i.test(ch) ? start + i : -1)).filter((i) => i >= 0);
      if (letters.length === 0) return uri;
      const i = letters[at % letters.length]!;
      return `${uri.slice(0, i)}%${uri.charCodeAt(i).toString(16).toUpperCase()}${uri.slice(i + 1)}`;
    },
    (uri) => uri.replace(/\/([^/]*)$/, "/./$1"),
    (uri) => uri.replace(/\/([^/]*)$/, "\\$1"),
    (uri) => uri.replace(/\/([^/]*)$/, "%2F$1"),
    (uri) => `${uri}?x=1`,
    (uri) => `${uri}#top`,
    (uri) => uri.replace("://", ":////"),
  ];
  const transformed = fc.tuple(canonical, fc.array(fc.tuple(fc.constantFrom(...transforms), fc.nat()), { minLength: 1, maxLength: 2 })).map(([uri, steps]) =>
    steps.reduce((current, [transform, at]) => transform(current, at), uri),
  );
  return fc.oneof({ weight: 2, arbitrary: canonical }, { weight: 3, arbitrary: traversal }, { weight: 4, arbitrary: transformed });
}

interface UseOptions {
  uris: boolean;
  decoys: boolean;
  deep: boolean;
}

function useSpecArb(profile: Profile, options: UseOptions): fc.Arbitrary<UseSpec> {
  const call = (method: "tools/call" | "prompts/get", specs: Record<string, fc.Arbitrary<Args>>) =>
    nameArb(Object.keys(specs)).chain((name) =>
      fc.record({
        method: fc.constant(method),
        target: fc.constant(name),
        args: (specs[name] ?? specs[Object.keys(specs)[0]!]!).map((args): Args | undefined => args),
      }),
    );
  const resource = (options.uris ? uriArb(profile) : fc.constantFrom(...profile.resources)).map((uri) => ({ method: "resources/read" as const, target: uri, args: undefined }));
  const ping = fc.constant({ method: "ping" as const, target: "", args: undefined });
  const base = fc.oneof(
    { weight: options.uris ? 1 : 4, arbitrary: call("tools/call", profile.tools) },
    { weight: options.uris ? 1 : 2, arbitrary: call("prompts/get", profile.prompts) },
    { weight: options.uris ? 8 : 2, arbitrary: resource },
    { weight: 1, arbitrary: ping },
  );
  const everyName = [...Object.keys(profile.tools), ...Object.keys(profile.prompts), ...profile.resources];
  const decoysArb: fc.Arbitrary<UseSpec["decoys"]> = options.decoys
    ? fc.record({
        method: fc.option(fc.constantFrom("ping", "tools/call", "prompts/get", "resources/read", "tools/list"), { nil: undefined }),
        params: fc.option(fc.constantFrom(...everyName), { nil: undefined }),
        target: fc.option(fc.constantFrom(...everyName), { nil: undefined }),
        args: fc.array(fc.tuple(fc.constantFrom("message", "a", "b", "text", "target", "city", "confirm", "note"), fc.oneof(textArb, intArb, fc.constant(null))), { maxLength: 2 }),
      })
    : fc.constant({ method: undefined, params: undefined, target: undefined, args: [] as Array<[string, unknown]> });
  const deepArb = options.deep ? fc.oneof(fc.constantFrom(0, 20, 100, 118), fc.constantFrom(140, 200, 1000), fc.integer({ min: 110, max: 150 })) : fc.constant(0);
  return fc
    .record({ base, decoys: decoysArb, paramsFirst: fc.boolean(), deep: deepArb })
    .map(({ base: use, decoys, paramsFirst, deep }) => ({
      ...use,
      // Decoys of arguments only where the real arguments have the same key (so the real value is the last).
      decoys: { ...decoys, args: decoys.args.filter(([key]) => use.args?.some(([k]) => k === key)) },
      paramsFirst,
      deep,
    }));
}

const spellingArb = (escapes: boolean): fc.Arbitrary<Spelling> =>
  fc.record({
    ws: fc.constantFrom("", "", " ", "\n", "\t", "\r\n  "),
    escapes: escapes ? fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), { nil: undefined, freq: 2 }) : fc.constant(undefined),
  });

// ---------------------------------------------------------------------------------------------------------------
// Requests: the bytes, the labels, the framing
// ---------------------------------------------------------------------------------------------------------------

interface RequestCase {
  policy: PolicyModel;
  claim: RolesClaim;
  contentType: string;
  coding: ContentCoding;
  /** The bytes as sent (compressed when the coding is applied). */
  bytes: Buffer;
  chunkedAt: number[] | undefined;
  /** Whether the body is a canonical use of a registered item (then it must run exactly once when passed). */
  canonical: boolean;
  /** The body as a person reads it, for counterexamples. */
  shown: string;
}

interface Focus {
  /** More runs where an exploit needs several generated choices to meet (a UTF-7 polyglot under a label only one parser reads). */
  safetyRuns?: number;
  labels: boolean;
  encodings: boolean;
  codings: boolean;
  uris: boolean;
  decoys: boolean;
  deep: boolean;
}

/** The string argument a hidden use carries: one its item accepts, so that a backend reading it would run it. */
const HIDDEN_ARGUMENT: Record<string, string> = { echo: "message", summarize: "text", secret_plan: "target", "args-prompt": "city" };

/** The tail of a hidden message (see utf7Polyglot): a use of any item, its last string left open. */
function hiddenTailArb(profile: Profile): fc.Arbitrary<string> {
  const call = (method: string, specs: Record<string, fc.Arbitrary<Args>>) =>
    fc.tuple(fc.constantFrom(...Object.keys(specs)), textArb).map(
      ([name, value]) => `,"method":"${method}","params":{"name":${JSON.stringify(name)},"arguments":{"${HIDDEN_ARGUMENT[name] ?? "note"}":${JSON.stringify(value).slice(0, -1)}`,
    );
  const read = fc.constantFrom(...profile.outside, ...profile.resources).map((uri) => `,"method":"resources/read","params":{"uri":${JSON.stringify(uri)},"_":{"_":"x`);
  return fc.oneof(call("tools/call", profile.tools), call("prompts/get", profile.prompts), read);
}

function requestArb(profile: Profile, focus: Focus): fc.Arbitrary<RequestCase> {
  const message = fc
    .record({ spec: useSpecArb(profile, focus), spelling: spellingArb(focus.decoys), encoding: focus.encodings ? bodyEncodingArb : fc.constant("utf-8" as const) })
    .map(({ spec, spelling, encoding }) => {
      const text = write(messageDoc(spec, 7), spelling);
      const plain = spec.decoys.method === undefined && spec.decoys.params === undefined && spec.decoys.target === undefined && spec.deep === 0;
      const registered = spec.method === "tools/call" ? spec.target in profile.tools : spec.method === "prompts/get" ? spec.target in profile.prompts : profile.resources.includes(spec.target);
      return { bytes: encodeText(text, encoding), canonical: plain && registered && encoding.startsWith("utf-8"), shown: `${encoding}: ${text}`, polyglot: false };
    });
  const polyglot = hiddenTailArb(profile).map((tail) => {
    const { bytes, visible, hidden } = utf7Polyglot(7, tail);
    return { bytes, canonical: false, shown: `UTF-8: ${visible}\n      UTF-7: ${hidden}`, polyglot: true };
  });
  const body = focus.encodings ? fc.oneof({ weight: 3, arbitrary: message }, { weight: 2, arbitrary: polyglot }) : message;
  const plainLabel = fc.constantFrom("application/json", "application/json; charset=utf-8");
  // A polyglot is labelled UTF-7 more often than not, in every spelling.
  const label = (polyglotBody: boolean) =>
    focus.labels
      ? fc.oneof({ weight: 4, arbitrary: polyglotBody ? contentTypeArb(utf7CharsetArb, true) : contentTypeArb(anyCharsetArb) }, { weight: 1, arbitrary: plainLabel })
      : fc.constant("application/json");
  return body
    .chain((chosen) =>
      fc.record({
        policy: policyArb(profile),
        claim: claimArb,
        contentType: label(chosen.polyglot),
        coding: focus.codings ? contentCodingArb : fc.constant<ContentCoding>({ header: undefined, applied: false }),
        body: fc.constant(chosen),
        chunkedAt: fc.option(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), { nil: undefined, freq: focus.codings ? 2 : 4 }),
      }),
    )
    .map(({ body: { bytes, canonical, shown }, coding, ...rest }) => ({
      ...rest,
      coding,
      bytes: codedBytes(bytes, coding),
      canonical,
      shown,
      [fc.toStringMethod]: () =>
        [
          `${rest.policy.grants.length > 0 ? "allow-list" : "deny-list"} policy, roles ${JSON.stringify(rest.claim.form === "list" ? rest.claim.roles : [])}`,
          `Content-Type: ${JSON.stringify(rest.contentType)}${coding.header === undefined ? "" : `, Content-Encoding: ${coding.header}${coding.applied ? " (applied)" : ""}`}${rest.chunkedAt ? ", chunked" : ""}`,
          `body ${shown}`,
        ].join("\n    "),
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle: the gateway's reading, and what the target says it must do
// ---------------------------------------------------------------------------------------------------------------

type OracleUse =
  | { method: "tools/call" | "prompts/get"; name: string; arguments: unknown }
  | { method: "resources/read"; uri: string }
  | { method: "ping" };

/** The gateway's reading: the bytes decoded as UTF-8 and parsed with JSON.parse; undefined when they are not JSON. */
interface Reading {
  text: string;
  parsed: unknown;
  use: OracleUse;
}

type Verdict =
  | { outcome: "refused"; status: number; code: number; why: string }
  | { outcome: "forwarded"; reading: Reading }
  /** The target leaves the outcome open (near a limit, or characters it does not name); only safety is checked. */
  | { outcome: "either" };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function useOf(message: unknown): OracleUse {
  const params = isObject(message) && isObject(message.params) ? message.params : {};
  const method = isObject(message) ? message.method : undefined;
  if (method === "tools/call" || method === "prompts/get") return { method, name: String(params.name), arguments: params.arguments };
  if (method === "resources/read") return { method: "resources/read", uri: String(params.uri) };
  return { method: "ping" };
}

function readingOf(bytes: Buffer): Reading | undefined {
  const text = new TextDecoder().decode(bytes);
  try {
    const parsed: unknown = JSON.parse(text);
    return { text, parsed, use: useOf(parsed) };
  } catch {
    return undefined;
  }
}

/** May the caller read this URI? Definitely not with refused characters or a denied reading; open with other oddities. */
function uriVerdict(policy: PolicyModel, claim: RolesClaim, uri: string): "allowed" | "denied" | "either" {
  if (REFUSED_URI_CHARACTER.test(uri)) return "denied";
  if (!uriReadings(uri).every((reading) => mayUse(policy, claim, "resource", reading))) return "denied";
  return /[^\x21-\x7e]/.test(uri) ? "either" : "allowed";
}

const MAX_DEPTH_PASSING = 120;
const MIN_DEPTH_REFUSED = 140;

function verdict(c: RequestCase, reading: Reading | undefined): Verdict {
  if (!acceptedContentType(c.contentType)) return { outcome: "refused", status: 415, code: -32600, why: "label" };
  if (!acceptedContentCoding(c.coding)) return { outcome: "refused", status: 415, code: -32600, why: "coding" };
  if (reading === undefined) return { outcome: "refused", status: 400, code: -32700, why: "not JSON" };
  const depth = nestingDepth(reading.parsed);
  if (depth >= MIN_DEPTH_REFUSED) return { outcome: "refused", status: 400, code: -32600, why: "too deep" };
  const { use } = reading;
  const allowed =
    use.method === "ping" ? "allowed" : use.method === "resources/read" ? uriVerdict(c.policy, c.claim, use.uri) : mayUse(c.policy, c.claim, use.method === "tools/call" ? "tool" : "prompt", use.name) ? "allowed" : "denied";
  if (depth > MAX_DEPTH_PASSING) return { outcome: "either" };
  if (allowed === "denied") return { outcome: "refused", status: 200, code: -32602, why: "denied" };
  if (allowed === "either") return { outcome: "either" };
  return { outcome: "forwarded", reading };
}

/** The item kind a method uses, which is also the access-log field naming it. */
const KIND_OF: Record<HandlerRecord["method"], ItemKind> = { "tools/call": "tool", "prompts/get": "prompt", "resources/read": "resource" };

// ---------------------------------------------------------------------------------------------------------------
// The world: one identity provider; per backend, the backend behind its tap and a gateway in front
// ---------------------------------------------------------------------------------------------------------------

interface BackendWorld {
  profile: Profile;
  policyFile: string;
  tap: WireTap;
  gateway: TestGateway;
  /** Forgets what was executed so far. */
  mark(): void;
  /** What the backend's handlers executed since the mark (SDK backends: their records; everything: its answer). */
  executions(answer: RawAnswer, before: number): HandlerRecord[];
  /** Headers every request carries besides the label (server-everything: its session). */
  sessionHeaders: Record<string, string>;
  close(): Promise<void>;
}

let idp: TestIdentityProvider;
let policyDir: string;
const worlds = new Map<string, BackendWorld>();
const tokens = new Map<string, string>();

async function tokenFor(claim: RolesClaim): Promise<string> {
  const key = JSON.stringify(claim);
  let token = tokens.get(key);
  if (!token) {
    token = await idp.token({ subject: "caller", claims: tokenClaims(claim) });
    tokens.set(key, token);
  }
  return token;
}

async function startWorld(name: string): Promise<BackendWorld> {
  const policyFile = join(policyDir, `${name}.yaml`);
  await writeFile(policyFile, "tools:\n  echo: [employee]\n");
  const gatewayFor = (url: string) => startGateway(gatewaySettings(idp, url, { POLICY_FILE: policyFile, POLICY_CACHE_SECONDS: "0" }));
  if (name === "everything") {
    const backend = await startEverythingBackend();
    const gateway = await gatewayFor(backend.url);
    const session = await openRawSession(gateway.url, await tokenFor({ form: "list", roles: [], junk: false }), PROTOCOL_VERSION);
    return {
      profile: EVERYTHING_PROFILE,
      policyFile,
      tap: backend.tap,
      gateway,
      sessionHeaders: { "mcp-session-id": session.headers["mcp-session-id"]! },
      mark: () => undefined,
      executions(answer, before) {
        if (backend.tap.requests.length === before) return [];
        const reply = safeMessages(answer).find((m) => m.id === 7);
        const execution = everythingExecution(reply);
        return execution ? [execution] : [];
      },
      close: async () => {
        await gateway.close();
        await backend.close();
      },
    };
  }
  const backend = await startSdkBackend(name as SdkBackendKind);
  const gateway = await gatewayFor(backend.url);
  let seen = 0;
  return {
    profile: SDK_PROFILE,
    policyFile,
    tap: backend.tap,
    gateway,
    sessionHeaders: {},
    mark: () => {
      seen = backend.executed.length;
    },
    executions: () => backend.executed.slice(seen),
    close: async () => {
      await gateway.close();
      await backend.close();
    },
  };
}

function safeMessages(answer: RawAnswer): Record<string, unknown>[] {
  try {
    return messagesIn(answer.headers["content-type"] as string | undefined, answer.body);
  } catch {
    return [];
  }
}

const BACKENDS = ["express5", "express4", "v2", "everything"] as const;

beforeAll(async () => {
  idp = await startIdentityProvider();
  policyDir = await mkdtemp(join(tmpdir(), "differential-requests-"));
  await Promise.all(BACKENDS.map(async (name) => worlds.set(name, await startWorld(name))));
}, 60_000);

afterAll(async () => {
  await Promise.all([...worlds.values()].map((world) => world.close()));
  await idp?.close();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------------------

function rpcError(answer: RawAnswer): number | undefined {
  const reply = safeMessages(answer)[0];
  return isObject(reply) && isObject(reply.error) ? (reply.error.code as number) : undefined;
}

function header(request: WireRequest, name: string): string | string[] | undefined {
  return request.headers[name];
}

/** One request through the gateway, and what every party made of it. */
interface Observation {
  c: RequestCase;
  answer: RawAnswer;
  /** What reached the backend, byte for byte. */
  wire: WireRequest[];
  /** What the backend's handlers executed. */
  executed: HandlerRecord[];
  /** The gateway's access-log line. */
  log: Record<string, unknown>;
  reading: Reading | undefined;
  expected: Verdict;
}

async function exchange(world: BackendWorld, c: RequestCase): Promise<Observation> {
  await writeFile(world.policyFile, renderPolicy(c.policy));
  world.gateway.logger.lines.length = 0;
  const before = world.tap.requests.length;
  world.mark();
  const answer = await postBytes(
    world.gateway.url,
    {
      authorization: `Bearer ${await tokenFor(c.claim)}`,
      "content-type": c.contentType,
      ...(c.coding.header === undefined ? {} : { "content-encoding": c.coding.header }),
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": PROTOCOL_VERSION,
      ...world.sessionHeaders,
    },
    c.bytes,
    c.chunkedAt,
  );
  const reading = readingOf(c.bytes);
  return { c, answer, wire: world.tap.requests.slice(before), executed: world.executions(answer, before), log: world.gateway.logger.last(), reading, expected: verdict(c, reading) };
}

/** Whatever ran is something the caller may use, and exactly what the gateway read and logged. */
function expectAgreement(world: BackendWorld, { c, wire, executed, log, reading }: Observation): void {
  const use = reading?.use;
  for (const execution of executed) {
    expect(mayUse(c.policy, c.claim, KIND_OF[execution.method], execution.name), `${execution.method} ${execution.name} ran, but the policy denies it`).toBe(true);
    expect(use?.method, `the backend ran ${execution.method} ${execution.name}; the gateway read ${use?.method ?? "nothing it would pass"}`).toBe(execution.method);
    expect(execution, "the backend ran it with what the gateway read").toEqual(world.profile.record(use!));
    const logged = use!.method === "resources/read" ? use!.uri : use!.method === "ping" ? undefined : use!.name;
    expect(log[KIND_OF[execution.method]], "the access log names what was executed").toBe(logged);
  }
  if (wire.length === 0) expect(executed).toEqual([]);
}

/** The target's refusals reach nothing; what it passes arrives once, labelled, framed and spelled by the gateway. */
function expectTargetBehaviour(world: BackendWorld, { c, answer, wire, executed, log, expected }: Observation): void {
  if (expected.outcome === "refused") {
    expect(wire, `refused (${expected.why}), so nothing may reach the backend`).toEqual([]);
    expect(answer.status, answer.body.slice(0, 300)).toBe(expected.status);
    expect(rpcError(answer)).toBe(expected.code);
    return;
  }
  if (expected.outcome === "either") return;
  expect(answer.status, answer.body.slice(0, 300)).toBe(200);
  expect(wire).toHaveLength(1);
  const [forwarded] = wire as [WireRequest];
  const { text, parsed, use } = expected.reading;
  const duplicates = readFirstOccurrence(text).duplicates;
  const judged = duplicates ? JSON.stringify(parsed) : text;
  expect(header(forwarded, "content-type"), "the backend is told application/json, exactly").toBe("application/json");
  expect(header(forwarded, "transfer-encoding")).toBeUndefined();
  expect(header(forwarded, "content-encoding")).toBeUndefined();
  expect(header(forwarded, "content-length")).toBe(String(forwarded.body.length));
  expect(forwarded.body.toString("utf8"), duplicates ? "re-serialised from the last-occurrence reading" : "the decoded text").toBe(judged);
  expect(log.decision).toBe("allowed");
  expect(log.mcpMethod).toBe(use.method);
  const record = world.profile.record(use);
  if (c.canonical && record) expect(executed, "a canonical use of a registered item runs once").toEqual([record]);
  else expect(executed.length).toBeLessThanOrEqual(1);
}

const FOCUSES: Record<string, Focus> = {
  "media-type spellings, charsets and bodies that read otherwise in them": { safetyRuns: 3 * SAFETY_RUNS, labels: true, encodings: true, codings: false, uris: false, decoys: false, deep: false },
  "Content-Encoding headers and chunked framing": { labels: false, encodings: false, codings: true, uris: false, decoys: false, deep: false },
  "resource URI spellings": { labels: false, encodings: false, codings: false, uris: true, decoys: false, deep: false },
  "duplicate keys anywhere and \\u escapes in methods, names and keys": { labels: false, encodings: false, codings: false, uris: false, decoys: true, deep: false },
  "deep nesting": { labels: false, encodings: false, codings: false, uris: false, decoys: false, deep: true },
};

describe.each(BACKENDS)("the gateway in front of %s", (name) => {
  for (const [title, focus] of Object.entries(FOCUSES)) {
    it(`${title}: nothing denied runs, and what runs is what the gateway read`, async () => {
      const world = worlds.get(name)!;
      await fc.assert(
        fc.asyncProperty(requestArb(world.profile, focus), async (c) => expectAgreement(world, await exchange(world, c))),
        { numRuns: focus.safetyRuns ?? SAFETY_RUNS },
      );
    });
    it(`${title}: refused or forwarded as the target behaviour says`, async () => {
      const world = worlds.get(name)!;
      await fc.assert(
        fc.asyncProperty(requestArb(world.profile, focus), async (c) => expectTargetBehaviour(world, await exchange(world, c))),
        { numRuns: TARGET_RUNS },
      );
    });
  }
});
