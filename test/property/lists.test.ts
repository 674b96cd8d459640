/**
 * Property: whatever the policy, the caller's roles and the backend's list results, the caller sees exactly the
 * items the policy lets it use, in the backend's order, and nothing else of the response changes. Lists come as JSON
 * or as SSE streams (priming events, comments, ids, retry fields, notifications and server requests around the
 * result, LF / CRLF / CR line endings, data split over several lines, the last event left unterminated, every byte
 * boundary a possible chunk boundary), one page or several (every page filtered, the opaque cursor passed both ways
 * untouched), answering a single request or a batch, with a second list smuggled into the result or sent unasked.
 *
 * The gateway runs in process (its web-standard fetch) from its real configuration, policy file and token verifier
 * (against a JWKS served over loopback HTTP); the backend is a real HTTP server on loopback.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { usePropertyGateway } from "./support/property-gateway.js";
import {
  LIST_METHODS,
  SHAPES,
  mayUse,
  pageArb,
  policyAndCallerArb,
  renderPolicy,
  usableNames,
  type EventFormat,
  type Page,
  type PolicyModel,
  type RolesClaim,
  type SideEvent,
} from "./support/arbitraries.js";
import { messagesOf, type Reply } from "./support/scripted-backend.js";

const RUNS = 200;

const scenarioArb = fc
  .record({
    caller: policyAndCallerArb,
    method: fc.constantFrom(...Object.keys(LIST_METHODS)),
    batch: fc.boolean(),
    pageCount: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ caller: { policy, claim }, ...base }) => {
    const favoured = { tool: usableNames(policy, claim, "tool"), prompt: usableNames(policy, claim, "prompt"), resource: usableNames(policy, claim, "resource") };
    return fc
      .record({
        pages: fc.array(pageArb(LIST_METHODS[base.method]!, favoured), { minLength: base.pageCount, maxLength: base.pageCount }),
        // Opaque cursors: any text, which must come back to the backend exactly as it sent it.
        cursors: fc.uniqueArray(fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), fc.base64String({ minLength: 4, maxLength: 60 })), {
          minLength: base.pageCount - 1,
          maxLength: base.pageCount - 1,
        }),
      })
      .map((rest) => ({ policy, claim, ...base, ...rest }));
  });

// ---------------------------------------------------------------------------------------------------------------
// The expected outcome
// ---------------------------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The message as the caller must see it: every list in a result keeps the items the caller may use, nothing else. */
function expectedMessage(message: unknown, policy: PolicyModel, claim: RolesClaim): { message: unknown; changed: boolean } {
  if (Array.isArray(message)) {
    const outcomes = message.map((element) => expectedMessage(element, policy, claim));
    return { message: outcomes.map((o) => o.message), changed: outcomes.some((o) => o.changed) };
  }
  if (!isObject(message) || !isObject(message.result)) return { message, changed: false };
  const result = { ...message.result };
  let changed = false;
  for (const [key, kind, field] of SHAPES) {
    const items = result[key];
    if (!Array.isArray(items)) continue;
    const kept = items.filter((item) => isObject(item) && typeof item[field] === "string" && mayUse(policy, claim, kind, item[field], { template: field === "uriTemplate" }));
    if (kept.length !== items.length) changed = true;
    result[key] = kept;
  }
  return { message: { ...message, result }, changed };
}

/** An SSE event the backend writes, and what the caller must receive in its place. */
interface PlannedEvent {
  raw: string;
  /** The non-data lines of the event, in order, with "data" where its data lines begin. */
  shape: string[];
  /** The event's message, when its data is JSON. */
  message: unknown;
  expect: { kind: "as is" } | { kind: "dropped" } | { kind: "rewritten"; message: unknown };
}

function dataLines(message: unknown, format: EventFormat): string[] {
  const json = JSON.stringify(message, null, format.multiline ? 2 : undefined);
  return json.split("\n").map((line) => `data:${format.space ? " " : ""}${line}`);
}

function planEvent(content: SideEvent, format: EventFormat, policy: PolicyModel, claim: RolesClaim): PlannedEvent {
  const lines: string[] = [];
  let message: unknown;
  let data: string[] = [];
  if (content.type === "priming") {
    lines.push(`id: ${content.id}`, content.bareData ? "data" : "data: ");
  } else if (content.type === "comment") {
    lines.push(": keep-alive");
  } else if (content.type === "retry") {
    lines.push("retry: 1500");
  } else {
    if (content.type === "unreadable") {
      data = [`data: ${content.data}`];
    } else {
      message = content.type === "message" ? content.message : { jsonrpc: "2.0", id: 9999, result: { [content.key]: content.items } };
      data = dataLines(message, format);
    }
    if (format.comment) lines.push(": note");
    if (format.eventField) lines.push("event: message");
    if (format.id !== undefined) lines.push(`id: ${format.id}`);
    lines.push(...data);
    if (format.retry) lines.push("retry: 250");
  }
  const shape = lines.filter((line, i) => !(line === "data" || line.startsWith("data:")) || i === lines.findIndex((l) => l === "data" || l.startsWith("data:")));
  const raw = `${lines.join(format.eol)}${format.eol}${format.eol}`;
  if (content.type === "unreadable") return { raw, shape, message, expect: { kind: "dropped" } };
  if (message === undefined) return { raw, shape, message, expect: { kind: "as is" } };
  const outcome = expectedMessage(message, policy, claim);
  return { raw, shape, message, expect: outcome.changed ? { kind: "rewritten", message: outcome.message } : { kind: "as is" } };
}

/** Cuts a body into chunks at the given fractions of its byte length (multi-byte characters may be cut too). */
function cut(body: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((f) => Math.floor(f * body.length)))].filter((o) => o > 0 && o < body.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, body.length]) {
    chunks.push(body.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/** What one page of the backend's answer is, byte for byte, and what the caller must get. */
interface PlannedPage {
  reply: Reply;
  /** Checks what the caller got; returns the messages it got, or "refused" when the whole answer was. */
  check(status: number, contentType: string | null, body: string): unknown[] | "refused";
}

/** The reply's headers: a label of "" is no Content-Type at all. */
/** The label the gateway writes for the client: the backend's media type, lower case, none of its parameters. */
function gatewayLabel(contentType: string): string {
  return (contentType.split(";")[0] as string).trim().toLowerCase();
}

function labelled(contentType: string): Record<string, string> {
  return contentType === "" ? {} : { "content-type": contentType };
}

function planPage(page: Page, responses: unknown[], batch: boolean, policy: PolicyModel, claim: RolesClaim): PlannedPage {
  const { framing } = page;
  if (framing.type === "json") {
    const value = batch ? responses : responses[0];
    const body = Buffer.from(JSON.stringify(value, null, framing.pretty ? 2 : undefined));
    const expected = expectedMessage(value, policy, claim);
    return {
      reply: { status: 200, headers: labelled(framing.contentType), chunks: cut(body, page.cuts) },
      check(status, contentType, text) {
        expect(status).toBe(200);
        // (An unlabelled body is passed on as the Fetch standard labels a text body; the label is not the point here.)
        if (framing.contentType !== "") expect(contentType).toBe(gatewayLabel(framing.contentType));
        if (expected.changed) expect(JSON.parse(text)).toEqual(expected.message);
        else expect(text).toBe(body.toString("utf8"));
        return messagesOf(expected.message);
      },
    };
  }
  const responseEvents: [SideEvent, EventFormat][] =
    batch && !framing.batchInOneEvent
      ? responses.map((message, i) => [{ type: "message", message }, framing.formats[i]!])
      : [[{ type: "message", message: batch ? responses : responses[0] }, framing.formats[0]!]];
  const events = [...framing.before, ...responseEvents, ...framing.after].map(([content, format]) => planEvent(content, format, policy, claim));
  let stream = events.map((e) => e.raw).join("");
  const last = events[events.length - 1]!;
  if (framing.unterminated) {
    // The last event ends without its blank line (and without a line break after its last line).
    const eol = /\r\n\r\n$/.test(last.raw) ? 4 : 2;
    stream = stream.slice(0, -eol);
    last.raw = last.raw.slice(0, -eol);
  }
  return {
    reply: { status: 200, headers: labelled(framing.contentType), chunks: cut(Buffer.from(stream), page.cuts) },
    check(status, contentType, text) {
      if (framing.mislabelled) {
        // A successful answer that is neither JSON nor an event stream cannot be filtered: refused as a whole.
        expect(status).toBe(502);
        expect(JSON.parse(text)).toMatchObject({ jsonrpc: "2.0", error: { code: -32003 } });
        return "refused";
      }
      expect(status).toBe(200);
      expect(contentType).toBe(gatewayLabel(framing.contentType));
      const seen: unknown[] = [];
      let at = 0;
      for (const event of events) {
        if (event.expect.kind === "dropped") continue;
        if (event.expect.kind === "as is") {
          // Untouched events pass byte for byte.
          expect(text.slice(at, at + event.raw.length)).toBe(event.raw);
          at += event.raw.length;
          if (event.message !== undefined) seen.push(...messagesOf(event.message));
          continue;
        }
        // A filtered event keeps its other fields, in place, around one data line holding the filtered message.
        const blank = text.indexOf("\n\n", at);
        const end = event === last && framing.unterminated ? text.length : blank + 2;
        expect(blank === -1 && end !== text.length).toBe(false);
        const lines = text.slice(at, end).split("\n").filter((line, i, all) => line !== "" || i < all.length - 2);
        const data = lines.filter((line) => line.startsWith("data:"));
        expect(data).toHaveLength(1);
        expect(lines.map((line) => (line.startsWith("data:") ? "data" : line))).toEqual(event.shape.map((line) => (line === "data" || line.startsWith("data:") ? "data" : line)));
        const message = JSON.parse(data[0]!.slice(5));
        expect(message).toEqual(event.expect.message);
        seen.push(...messagesOf(message));
        at = end;
      }
      expect(at).toBe(text.length);
      return seen;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The gateway, its identity provider and its backend
// ---------------------------------------------------------------------------------------------------------------

const world = usePropertyGateway();

describe("list results", () => {
  it("show exactly the items the caller may use, in order, whatever the framing, paging and shape of the answer", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ policy, claim, method, batch, pages, cursors }) => {
        await world.usePolicy(renderPolicy(policy));
        world.backend.reset();
        world.logger.lines.length = 0;
        const [key] = LIST_METHODS[method]!;
        const planned: PlannedPage[] = [];
        const servedPages: number[] = [];
        world.backend.script = (_request, parsed) => {
          const list = messagesOf(parsed).find((m) => isObject(m) && m.method === method) as { id: unknown; params?: { cursor?: unknown } } | undefined;
          if (!list) return undefined;
          const cursor = list.params?.cursor;
          const index = cursor === undefined ? 0 : cursors.indexOf(cursor as string) + 1;
          servedPages.push(index);
          const page = pages[index];
          if (index === 0 && cursor !== undefined) return undefined;
          if (!page) return undefined;
          const result: Record<string, unknown> = { [key]: page.items };
          if (page.smuggled) result[page.smuggled.key] = page.smuggled.items;
          if (index < cursors.length) result.nextCursor = cursors[index];
          const responses = [{ jsonrpc: "2.0", id: list.id, result }];
          if (batch) responses.push({ jsonrpc: "2.0", id: "ping", result: {} });
          const plan = planPage(page, responses, batch, policy, claim);
          planned[index] = plan;
          return plan.reply;
        };

        const authorization = `Bearer ${await world.tokenFor(claim)}`;
        let cursor: unknown;
        for (let i = 0; i < pages.length; i++) {
          const request = { jsonrpc: "2.0", id: i + 1, method, ...(cursor === undefined ? {} : { params: { cursor } }) };
          const body = JSON.stringify(batch ? [request, { jsonrpc: "2.0", id: "ping", method: "ping" }] : request);
          const response = await world.gateway.fetch(
            new Request("http://gateway.test/mcp", {
              method: "POST",
              headers: { authorization, "content-type": "application/json", accept: "application/json, text/event-stream" },
              body,
            }),
          );
          const text = await response.text();
          // The backend got the request as sent (the cursor included, byte for byte) and served the next page.
          expect(world.backend.received[i]?.body.toString("utf8")).toBe(body);
          expect(servedPages[i]).toBe(i);
          const seen = planned[i]!.check(response.status, response.headers.get("content-type"), text);
          if (seen === "refused") break;
          const answer = seen.find((m) => isObject(m) && m.id === i + 1) as { result: { nextCursor?: unknown } } | undefined;
          expect(answer).toBeDefined();
          // The cursor the caller saw is the backend's, unchanged; it is what the caller sends for the next page.
          expect(answer?.result.nextCursor).toBe(cursors[i]);
          cursor = answer?.result.nextCursor;
        }
        expect(world.backend.received).toHaveLength(planned.length);
        // Each run's policy was loaded as written (a failed load would keep the previous run's policy in force).
        expect(world.logger.lines.filter((line) => line.message.startsWith("policy reload failed"))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
