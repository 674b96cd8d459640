/**
 * Property: a request the gateway cannot judge never reaches the backend. Whatever the HTTP method, content type,
 * size or text of the body, the answer is the documented refusal (405, 415, 413, or 400 with -32700 / -32600) and
 * the backend receives nothing; a request the gateway can judge is judged (an allowed call goes through, so the
 * refusals above are not simply refusing everything).
 *
 * The caller is authenticated with a valid token each time, so these refusals are the gateway's reading of the
 * request, not of the caller.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { createGatewayFromConfig } from "../../functions/core/create-gateway-from-config.js";
import type { Gateway } from "../../functions/core/gateway.js";
import { CollectingLogger, gatewaySettings } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startScriptedBackend, type ScriptedBackend } from "./support/scripted-backend.js";

const MAX_BODY_BYTES = 1024;
const POLICY = "tools:\n  echo: [admin]\n";
const ALLOWED = "echo";
const DENIED = "delete_everything";

let idp: TestIdentityProvider;
let backend: ScriptedBackend;
let gateway: Gateway;
let policyDir: string;
let authorization: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startScriptedBackend();
  policyDir = await mkdtemp(join(tmpdir(), "http-shape-properties-"));
  const policyFile = join(policyDir, "policy.yaml");
  await writeFile(policyFile, POLICY);
  const settings = gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile, MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  gateway = createGatewayFromConfig(loadConfigFromEnv(settings), new CollectingLogger());
  await gateway.warmUp();
  authorization = `Bearer ${await idp.token({ subject: "caller", claims: { roles: ["admin"] } })}`;
});

afterAll(async () => {
  await backend?.close();
  await idp?.close();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
});

beforeEach(() => backend.reset());

const URL_ = "http://gateway.test/mcp";

function call(name: string, padding = ""): string {
  return JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: { message: padding } } });
}

async function send(init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
  return gateway.fetch(new Request(URL_, { ...init, headers: { authorization, accept: "application/json, text/event-stream", ...init.headers } }));
}

async function expectJsonRpcError(response: Response, status: number, code: number): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(await response.json()).toMatchObject({ jsonrpc: "2.0", error: { code } });
}

/** Methods a Request can carry (the Fetch standard forbids CONNECT, TRACE and TRACK). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

describe("HTTP shape", () => {
  it("answers any method but GET, POST and DELETE with 405, and a foreign Origin first of all with 403, without the backend", async () => {
    const methodArb = fc
      .oneof(
        fc.constantFrom("PUT", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "QUERY", "M-SEARCH", "LINK", "PURGE", "put", "head", "options"),
        fc.stringMatching(/^[A-Z][A-Z_-]{0,11}$/),
      )
      .filter((method) => !FORBIDDEN_METHODS.has(method.toUpperCase()) && !["GET", "POST", "DELETE"].includes(new Request(URL_, { method }).method));
    await fc.assert(
      fc.asyncProperty(methodArb, fc.boolean(), fc.constantFrom(ALLOWED, DENIED), async (method, preflightHeader, name) => {
        backend.reset();
        const withBody = !["GET", "HEAD"].includes(method.toUpperCase());
        const response = await send({
          method,
          headers: { "content-type": "application/json", ...(preflightHeader ? { "access-control-request-method": "POST", origin: "https://app.example.com" } : {}) },
          ...(withBody ? { body: call(name) } : {}),
        });
        if (preflightHeader) {
          // No origin is allowed here, so the Origin check refuses before the method (or a preflight) is looked at.
          expect(response.status).toBe(403);
          expect(response.headers.get("access-control-allow-origin")).toBeNull();
        } else {
          expect(response.status).toBe(405);
          expect(response.headers.get("allow")).toBe("GET, POST, DELETE");
        }
        expect(backend.received).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("answers any content type but application/json with 415, without the backend; judges the body otherwise", async () => {
    const printable = fc.string({ unit: fc.constantFrom(..." \t!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\""), maxLength: 40 });
    const contentTypeArb = fc.oneof(
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON ; charset=UTF-8",
        "application/json; charset = utf-7",
        "application/json;\tcharset\t=\tutf-16",
        'application/json; x=";charset=utf-8"; charset=utf-7',
        "application/json; charset=utf-8; charset=utf-7",
        'application/json; charset="UTF-8"',
        "application/json; charset=latin1",
        "application/json;",
        "application/json\t;x=y",
        "text/plain",
        "text/json",
        "application/jsonp",
        "application/json5",
        "application/json-rpc",
        "application/json-patch+json",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/javascript",
        "application/ json",
        "application /json",
        "application/json, text/plain",
        "text/plain; a=application/json",
        "json",
        "",
      ),
      fc.tuple(fc.constantFrom("application/json", "text/plain", "application/"), printable).map(([a, b]) => a + b),
      printable,
    );
    await fc.assert(
      fc.asyncProperty(fc.option(contentTypeArb, { nil: undefined }), fc.constantFrom(ALLOWED, DENIED), async (contentType, name) => {
        backend.reset();
        let request: Request;
        try {
          request = new Request(URL_, {
            method: "POST",
            headers: { authorization, ...(contentType === undefined ? {} : { "content-type": contentType }) },
            body: call(name),
          });
        } catch {
          fc.pre(false);
          return;
        }
        // What the gateway is handed (a body without a content type is labelled text/plain by the Fetch standard).
        const sent = request.headers.get("content-type") ?? "";
        const mediaType = sent.split(";")[0]!.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase();
        const response = await gateway.fetch(request);
        // A label naming a charset is read as UTF-8 only when that is the one charset it names; which spellings count
        // is pinned in test/unit/http/media-type.test.ts. Here: refused, or judged, and nothing denied gets through.
        const namesCharset = /charset/i.test(sent);
        if (mediaType !== "application/json" || (namesCharset && response.status === 415)) {
          await expectJsonRpcError(response, 415, -32600);
          expect(backend.received).toEqual([]);
        } else if (name === DENIED) {
          expect(await response.json()).toMatchObject({ id: 1, error: { code: -32602, message: `Unknown tool: ${DENIED}` } });
          expect(backend.received).toEqual([]);
        } else {
          expect(response.status).toBe(200);
          expect(backend.executed.map((e) => e.name)).toEqual([ALLOWED]);
          // The gateway labels what it forwards itself: never the client's parameters.
          expect(backend.received[0]?.headers["content-type"]).toBe("application/json");
        }
      }),
      { numRuns: 150 },
    );
  });

  it("answers a body over MAX_BODY_BYTES with 413, however it is sent, without the backend", async () => {
    const bodyArb = fc.record({
      name: fc.constantFrom(ALLOWED, DENIED),
      // Padding in characters of 1, 2, 3 and 4 UTF-8 bytes, so the limit is measured in bytes, not characters.
      unit: fc.constantFrom("x", "\u00e9", "\u20ac", "\u{1F600}"),
      // Near the limit, or far above it.
      target: fc.oneof(
        fc.constantFrom(MAX_BODY_BYTES, MAX_BODY_BYTES + 1),
        fc.integer({ min: MAX_BODY_BYTES - 8, max: MAX_BODY_BYTES + 8 }),
        fc.integer({ min: 0, max: 4 * MAX_BODY_BYTES }),
      ),
      declared: fc.constantFrom("none" as const, "true" as const, "understated" as const, "overstated" as const),
      streamed: fc.boolean(),
      cuts: fc.array(fc.integer({ min: 1, max: 4 * MAX_BODY_BYTES }), { maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(bodyArb, async ({ name, unit, target, declared, streamed, cuts }) => {
        backend.reset();
        const bare = Buffer.byteLength(call(name));
        const body = Buffer.from(call(name, unit.repeat(Math.max(0, Math.ceil((target - bare) / Buffer.byteLength(unit))))));
        const size = body.length;
        const lengthHeader = { none: undefined, true: size, understated: Math.floor(size / 2), overstated: size + MAX_BODY_BYTES }[declared];
        const offsets = [...new Set(cuts.filter((c) => c < size))].sort((a, b) => a - b);
        const chunks = [0, ...offsets].map((start, i) => body.subarray(start, offsets[i] ?? size));
        const response = await gateway.fetch(
          new Request(URL_, {
            method: "POST",
            headers: {
              authorization,
              "content-type": "application/json",
              ...(lengthHeader === undefined ? {} : { "content-length": String(lengthHeader) }),
            },
            body: streamed
              ? new ReadableStream<Uint8Array>({
                  start(controller) {
                    for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
                    controller.close();
                  },
                })
              : body,
            duplex: "half",
          } as RequestInit),
        );
        if (size > MAX_BODY_BYTES || (lengthHeader ?? 0) > MAX_BODY_BYTES) {
          await expectJsonRpcError(response, 413, -32600);
          expect(backend.received).toEqual([]);
        } else if (name === DENIED) {
          expect(await response.json()).toMatchObject({ id: 1, error: { code: -32602 } });
          expect(backend.received).toEqual([]);
        } else {
          expect(response.status).toBe(200);
          expect(backend.received.map((r) => r.body.equals(body))).toEqual([true]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("answers a body that is not JSON with 400 and -32700, without the backend", async () => {
    const valid = [call(ALLOWED), call(DENIED), JSON.stringify([JSON.parse(call(ALLOWED))])];
    const textArb = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.string({ unit: fc.constantFrom(..."{}[]\":,0123456789.eE+-truefalsn \n\\u"), maxLength: 40 }),
      fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([text, n]) => text.slice(0, n % text.length)),
      fc.tuple(fc.constantFrom(...valid), fc.constantFrom("x", "}", ",", "{}", "\u0000", " //", "]")).map(([text, garbage]) => text + garbage),
      fc.constantFrom(...valid).map((text) => text.replace(/"/g, "'")),
      fc.constantFrom(...valid).map((text) => text.replace("}", ",}")),
      fc.constantFrom(...valid).map((text) => `/* c */${text}`),
      fc.constantFrom(...valid).map((text) => text.replace('"id":1', '"id":NaN')),
      fc.constantFrom(...valid).map((text) => text.replace('"name"', "name")),
    );
    // What arrives is the text's UTF-8 bytes (a lone surrogate becomes U+FFFD); a leading BOM is not part of the text.
    const onTheWire = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text));
    const notJson = textArb.filter((text) => {
      try {
        JSON.parse(onTheWire(text));
        return false;
      } catch {
        return !text.startsWith("\ufeff");
      }
    });
    await fc.assert(
      fc.asyncProperty(notJson, async (text) => {
        backend.reset();
        const response = await send({ method: "POST", headers: { "content-type": "application/json" }, body: text });
        await expectJsonRpcError(response, 400, -32700);
        expect(backend.received).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it("answers JSON that is not JSON-RPC 2.0 with 400 and -32600, without the backend, even next to a valid call", async () => {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    const validId = (id: unknown) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) || id === null;
    /** JSON-RPC 2.0: a request or notification (method), or a response (id with result or error, no method). */
    const isMessage = (v: unknown) =>
      isObject(v) &&
      v.jsonrpc === "2.0" &&
      (!("id" in v) || validId(v.id)) &&
      (typeof v.method === "string" || ("id" in v && ("result" in v || "error" in v) && !("method" in v)));
    const invalidArb = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom<unknown>(
        { jsonrpc: "1.0", id: 1, method: "tools/call", params: { name: DENIED } },
        { id: 1, method: "tools/call", params: { name: DENIED } },
        { jsonrpc: "2.0", id: {}, method: "tools/call", params: { name: DENIED } },
        { jsonrpc: "2.0", id: [1], method: "ping" },
        { jsonrpc: "2.0", id: true, method: "ping" },
        { jsonrpc: "2.0", id: 1, method: 7 },
        { jsonrpc: "2.0", id: 1 },
        { jsonrpc: "2.0", id: 1, method: null, result: {} },
        { "jsonrpc ": "2.0", id: 1, method: "tools/call", params: { name: DENIED } },
        [JSON.parse(call(DENIED))],
        [],
      ),
    ).filter((value) => !isMessage(value) && !(Array.isArray(value) && value.length > 0 && value.every(isMessage)));
    const bodyArb = fc.oneof(
      invalidArb.map((value) => JSON.stringify(value)),
      // In a batch, next to calls that would be allowed or denied on their own.
      fc.tuple(fc.array(fc.constantFrom(call(ALLOWED), call(DENIED)), { maxLength: 2 }), invalidArb, fc.nat()).map(([calls, value, at]) => {
        const elements = [...calls];
        elements.splice(at % (elements.length + 1), 0, JSON.stringify(value));
        return `[${elements.join(",")}]`;
      }),
      // An id JSON can write but not hold: 1e400 is Infinity once parsed.
      fc.constant(`{"id":1e400,${call(DENIED).slice(1)}`),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const parsed = JSON.parse(body) as unknown;
        fc.pre(!(isMessage(parsed) || (Array.isArray(parsed) && parsed.length > 0 && parsed.every(isMessage))));
        backend.reset();
        const response = await send({ method: "POST", headers: { "content-type": "application/json" }, body });
        await expectJsonRpcError(response, 400, -32600);
        expect(backend.received).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
