import { describe, expect, it } from "vitest";
import { unknownSettings } from "../../../functions/config/unknown-variables.js";

describe("unknownSettings", () => {
  it("names misspelt settings with the one probably meant", () => {
    expect(unknownSettings({ POLICY_CACHE_SECOND: "0", JWT_AUDIANCE: "x", JWT_REQUIRE_SUBJECT: "false", BACKEND_TIMEOUT: "5" })).toEqual([
      { name: "POLICY_CACHE_SECOND", suggestion: "POLICY_CACHE_SECONDS" },
      { name: "JWT_AUDIANCE", suggestion: "JWT_AUDIENCE" },
      { name: "JWT_REQUIRE_SUBJECT", suggestion: undefined },
      { name: "BACKEND_TIMEOUT", suggestion: "BACKEND_TIMEOUT_MS" },
    ]);
  });

  it("leaves alone the gateway's own settings and every variable outside its families", () => {
    expect(
      unknownSettings({
        JWT_ISSUER: "x",
        JWT_REQUIRE_SUB: "false",
        JWT_ISSUERS: "[]",
        POLICY_FILE: "p.yaml",
        SESSION_KEY_SECRET_ID: "s",
        PATH: "/usr/bin",
        AWS_REGION: "us-east-1",
        MCP_SERVER_URL: "http://other-tool",
        PORT: "9000",
        HOST: "127.0.0.1",
      }),
    ).toEqual([]);
  });
});
