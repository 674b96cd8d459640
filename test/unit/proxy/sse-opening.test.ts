import { describe, expect, it, vi } from "vitest";
import { UpstreamError } from "../../../functions/errors.js";
import { openEventStream } from "../../../functions/proxy/sse-opening.js";
import { controlledStream } from "../../support/controlled-stream.js";

const WAIT_MS = 30;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const backendBody = controlledStream;

const JSON_BODY = '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}';
const EVENT = `event: message\ndata: ${JSON_BODY}\n\n`;

describe("openEventStream: a first field within the wait", () => {
  it("answers once the field is judged, the whole body replayed", async () => {
    const body = backendBody();
    body.send(EVENT);
    body.end();
    const opening = await openEventStream(body.stream, WAIT_MS, () => undefined);
    expect(opening.answeredEarly).toBe(false);
    expect(await new Response(opening.stream).text()).toBe(EVENT);
  });

  it("refuses a body whose first line is no SSE field (502), and cancels it", async () => {
    const body = backendBody();
    body.send(JSON_BODY);
    await expect(openEventStream(body.stream, WAIT_MS, () => undefined)).rejects.toThrow(UpstreamError);
    expect(body.state.cancelled).toBe(true);
  });

  it("waits for the field however long with a wait of 0", async () => {
    const body = backendBody();
    const opening = openEventStream(body.stream, 0, () => undefined);
    await pause(WAIT_MS * 3);
    body.send(EVENT);
    body.end();
    expect((await opening).answeredEarly).toBe(false);
  });
});

describe("openEventStream: a backend silent longer than the wait", () => {
  it("answers early; a first field that is SSE then passes with everything after it", async () => {
    const body = backendBody();
    const onLateRefusal = vi.fn();
    const opening = await openEventStream(body.stream, WAIT_MS, onLateRefusal);
    expect(opening.answeredEarly).toBe(true);
    body.send(EVENT);
    body.end();
    expect(await new Response(opening.stream).text()).toBe(EVENT);
    expect(onLateRefusal).not.toHaveBeenCalled();
  });

  it("ends the stream with none of the body when the first field proves no SSE field, and says why", async () => {
    const body = backendBody();
    const onLateRefusal = vi.fn();
    const opening = await openEventStream(body.stream, WAIT_MS, onLateRefusal);
    expect(opening.answeredEarly).toBe(true);
    body.send(JSON_BODY);
    expect(await new Response(opening.stream).text()).toBe("");
    expect(onLateRefusal).toHaveBeenCalledWith(expect.stringContaining("first line is not an SSE field"));
    expect(body.state.cancelled).toBe(true);
  });

  it("cancels the backend's body at once when the client leaves before the first field came", async () => {
    const body = backendBody();
    const opening = await openEventStream(body.stream, WAIT_MS, () => undefined);
    const reader = opening.stream.getReader();
    const read = reader.read();
    await reader.cancel("client gone");
    expect(body.state.cancelled).toBe(true);
    expect(await read).toEqual({ done: true, value: undefined });
  });
});
