/**
 * `mcp-sso-gateway doctor` against the buffered Lambda entry point (functions/handler.ts) behind an HTTP API stand-in
 * over real HTTP (the `$default` stage: every path at the host root, payload 2.0 events, the function's result
 * returned whole), as `cdk deploy` sets it up by default: it passes, and says the front door is buffered.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startApiGatewayFront, type ApiGatewayFront } from "../support/api-gateway-front.js";
import { httpApiEvent } from "../support/api-gateway-events.js";
import { lineOf, linesOf, runDoctor, startDoctorStage, type DoctorStage } from "../support/doctor-deployment.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { captureFunctionLogs, type FunctionLogs } from "../support/function-logs.js";
import { bufferedLambdaFetch } from "../support/lambda-fetch.js";

let stage: DoctorStage;
let front: ApiGatewayFront;
let logs: FunctionLogs;
let restoreEnvironment: () => void = () => undefined;

beforeAll(async () => {
  [stage, front] = await Promise.all([startDoctorStage(), startApiGatewayFront()]);
  // The stack sets PUBLIC_URL to the front door's URL; the function reads its settings when it is first imported.
  restoreEnvironment = setFunctionEnvironment(stage.settings({ PUBLIC_URL: front.publicUrl }));
  logs = captureFunctionLogs("mcp-sso-gateway");
  const { handler } = await import("../../functions/handler.js");
  front.attach(bufferedLambdaFetch(handler, (request) => httpApiEvent(request, { domainName: front.domainName, stage: "$default" })));
});

afterAll(async () => {
  vi.restoreAllMocks();
  restoreEnvironment();
  await front?.close();
  await stage?.close();
});

describe("doctor against the buffered Lambda function behind an HTTP API", () => {
  it("passes, and says that progress and server requests arrive only at the end of a call", async () => {
    const url = `${front.publicUrl}/mcp`;
    const run = await runDoctor(url, "--token-file", stage.tokenFile);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(lineOf(run, "challenge")).toBe(`ok   challenge: 401 with WWW-Authenticate: Bearer resource_metadata="${front.publicUrl}/.well-known/oauth-protected-resource/mcp"`);
    expect(linesOf(run, "metadata at ").map((line) => line.slice(0, 5))).toEqual(["ok   ", "ok   "]);
    expect(lineOf(run, "initialize")).toBe('ok   initialize: protocol version 2025-11-25, server "paged-tools" 2.3.0, with a session');
    expect(lineOf(run, "tools/list")).toBe("ok   tools/list: this caller sees 7 tools over 3 pages");
    expect(lineOf(run, "streaming")).toBe(
      "warn streaming: GET answered 405: buffered front door: progress and server requests arrive only at the end of a call " +
        '(sampling and elicitation during a call end it with an error). Fix: for streaming, deploy the restStreaming front door (README, "Front doors").',
    );
    expect(lineOf(run, "latency")).toMatch(/^ok {3}latency: first request \d+ ms/);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("8 ok, 2 warnings, 0 failures: MCP clients can sign in and work through this endpoint");
    // Every request went through the function: its access log has the GET it refused.
    expect(logs.lines).toContainEqual(expect.objectContaining({ httpMethod: "GET", path: "/mcp", status: 405 }));
  });
});
