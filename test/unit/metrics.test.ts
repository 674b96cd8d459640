import { describe, expect, it } from "vitest";
import { metricValues } from "../../functions/metrics.js";

const base = { time: "2026-01-01T00:00:00.000Z", httpMethod: "POST", path: "/mcp", durationMs: 12.5 };

function names(entry: Parameters<typeof metricValues>[0]): Record<string, number> {
  return Object.fromEntries(metricValues(entry).map((m) => [m.name, m.value]));
}

describe("metricValues", () => {
  it("counts every request and its latency", () => {
    expect(names({ ...base, status: 200, decision: "allowed" })).toEqual({ Requests: 1, Latency: 12.5 });
  });

  it("counts a 401 as an authentication failure, not a policy denial", () => {
    expect(names({ ...base, status: 401, decision: "denied" })).toEqual({ Requests: 1, AuthenticationFailures: 1, Latency: 12.5 });
  });

  it("counts a refused message as a denial", () => {
    expect(names({ ...base, status: 200, decision: "denied" })).toEqual({ Requests: 1, Denials: 1, Latency: 12.5 });
  });

  it.each([502, 504])("counts a %i as a backend error", (status) => {
    expect(names({ ...base, status })).toEqual({ Requests: 1, BackendErrors: 1, Latency: 12.5 });
  });

  it("does not count a 503 (no policy, no keys) as a denial or a backend error", () => {
    expect(names({ ...base, status: 503, decision: "denied" })).toEqual({ Requests: 1, Latency: 12.5 });
  });

  it("sums the list items removed", () => {
    expect(names({ ...base, status: 200, decision: "filtered", listItemsRemoved: 7 })).toEqual({ Requests: 1, ListItemsRemoved: 7, Latency: 12.5 });
  });

  it("counts the servers that did not answer their part of an aggregated answer", () => {
    expect(names({ ...base, status: 200, decision: "allowed", serversUnavailable: ["jira", "docs"] })).toEqual({ Requests: 1, ServersUnavailable: 2, Latency: 12.5 });
  });
});
