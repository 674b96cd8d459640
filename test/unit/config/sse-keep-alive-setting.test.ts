import { describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { ConfigError } from "../../../functions/errors.js";

const MINIMAL = {
  MCP_BACKEND_URL: "http://localhost:8000/mcp",
  JWT_ISSUER: "https://idp.example.com",
  JWT_AUDIENCE: "mcp-gateway",
  POLICY_FILE: "policies/walkthrough.yaml",
};

function problems(value: string): readonly string[] {
  try {
    loadConfigFromEnv({ ...MINIMAL, SSE_KEEPALIVE_SECONDS: value });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`accepted SSE_KEEPALIVE_SECONDS=${value}`);
}

describe("SSE_KEEPALIVE_SECONDS", () => {
  it("is 25 seconds when not set, or set empty", () => {
    expect(loadConfigFromEnv(MINIMAL).sseKeepAliveSeconds).toBe(25);
    expect(loadConfigFromEnv({ ...MINIMAL, SSE_KEEPALIVE_SECONDS: "" }).sseKeepAliveSeconds).toBe(25);
  });

  it.each([["0", 0], ["1", 1], [" 55 ", 55], ["900", 900]])("takes %j as %d", (value, seconds) => {
    expect(loadConfigFromEnv({ ...MINIMAL, SSE_KEEPALIVE_SECONDS: value }).sseKeepAliveSeconds).toBe(seconds);
  });

  it.each([
    ["901", "SSE_KEEPALIVE_SECONDS must be at most 900"],
    ["-1", "SSE_KEEPALIVE_SECONDS must be a whole number from 0 to 900"],
    ["2.5", "SSE_KEEPALIVE_SECONDS must be a whole number from 0 to 900"],
    ["25s", "SSE_KEEPALIVE_SECONDS must be a whole number from 0 to 900"],
  ])("refuses %j, naming the variable", (value, problem) => {
    expect(problems(value)).toEqual([problem]);
  });
});
