/**
 * Server-to-client traffic through the local server (the node adapter): during a tool call the backend sends
 * progress and logging notifications and asks the client for sampling, elicitation and roots; the client answers
 * with POSTs; the session's standalone GET stream carries the backend's own notifications. A real v1-SDK client and
 * a real v1-SDK backend, the gateway between them, a real identity provider, and a policy granting the tools.
 * The scenarios are those of every front door (server-to-client-scenarios.ts); a tools/list_changed is checked here.
 */
import { describe, expect, it, vi } from "vitest";
import { LATE_TOOLS } from "../support/interactive-backend.js";
import { expectedReceived, resultText } from "../support/interactive-client.js";
import { localServer, useFrontDoor } from "../support/server-to-client-front-doors.js";
import { itCarriesServerToClientTraffic } from "../support/server-to-client-scenarios.js";

const stage = useFrontDoor(localServer);

describe("server-to-client traffic through the local server", () => {
  itCarriesServerToClientTraffic(stage, { roundTrips: true, standaloneStream: true });

  it("passes tools/list_changed on; a tool the backend adds is judged by the policy, never by the last list sent", async () => {
    const { backend } = stage;
    const { granted, withheld } = LATE_TOOLS;
    const session = await stage.connect();
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(1), { timeout: 3_000 });
    const listed = async () => (await session.client.listTools()).tools.map((tool) => tool.name);
    const before = await listed();
    expect(before).toContain("add_tool");
    expect(before).not.toContain(granted);

    // The backend registers both tools during the session, and says so on the session's GET stream, once for each.
    const from = backend.sent.length;
    for (const name of [granted, withheld]) expect(resultText(await session.call("add_tool", { name }))).toBe(`added ${name}`);
    const sent = stage.sentBy("add_tool", from);
    expect(sent).toEqual(Array(2).fill({ tool: "add_tool", stream: "standalone", method: "notifications/tools/list_changed" }));
    await vi.waitFor(() => expect(session.received).toHaveLength(2), { timeout: 3_000 });
    expect(session.received).toEqual(expectedReceived(sent));

    const executedBefore = backend.executed.length;
    const refused = { code: -32602, message: expect.stringContaining(`Unknown tool: ${withheld}`) };
    // Refused before the client has listed again...
    await expect(session.call(withheld, {})).rejects.toMatchObject(refused);
    // ...the new list holds only what the policy grants (the backend listed both; the gateway removed one)...
    expect(await listed()).toEqual([...before, granted]);
    expect(stage.door.accessLog().filter((line) => line.mcpMethod === "tools/list").at(-1)).toMatchObject({ decision: "filtered", listItemsRemoved: 1 });
    // ...and refused after it; the backend never ran it. The granted one runs.
    await expect(session.call(withheld, {})).rejects.toMatchObject(refused);
    expect(backend.executed.length).toBe(executedBefore);
    expect(resultText(await session.call(granted, {}))).toBe(`ran ${granted}`);
    expect(backend.executed.slice(executedBefore)).toEqual([{ name: granted, arguments: {} }]);
  });
});
