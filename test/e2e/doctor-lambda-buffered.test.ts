/**
 * `mcp-sso-gateway doctor` against the buffered Lambda function as deployed: functions/handler.ts bundled as the stack
 * bundles it and run by AWS's own runtime client (aws-lambda-ric on Node 22, against a local Runtime API:
 * runtime-function.ts), behind an HTTP API stand-in over real HTTP (the `$default` stage: every path at the host root,
 * payload 2.0 events, the result returned whole), as `cdk deploy` sets it up by default. It passes, and says the front
 * door is buffered. One execution environment serves every request in turn, which a buffered front door allows:
 * nothing it answers is held open.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiGatewayFront, type ApiGatewayFront } from "../support/api-gateway-front.js";
import { httpApiEvent } from "../support/api-gateway-events.js";
import { lineOf, linesOf, runDoctor, startDoctorStage, type DoctorStage } from "../support/doctor-deployment.js";
import { BUFFERED_ENTRY } from "../support/function-bundle.js";
import { bufferedLambdaFetch } from "../support/lambda-fetch.js";
import { startRuntimeFunction, type RuntimeFunction } from "../support/runtime-function.js";

let stage: DoctorStage;
let front: ApiGatewayFront;
let fn: RuntimeFunction;

beforeAll(async () => {
  [stage, front] = await Promise.all([startDoctorStage(), startApiGatewayFront()]);
  // The stack sets PUBLIC_URL to the front door's URL.
  fn = await startRuntimeFunction(BUFFERED_ENTRY, {
    ...stage.settings({ PUBLIC_URL: front.publicUrl }),
    POWERTOOLS_SERVICE_NAME: "mcp-sso-gateway",
    POWERTOOLS_METRICS_NAMESPACE: "McpSsoGateway",
  });
  await fn.runtimeApi.initialized;
  // Each request becomes an invocation of the function; its posted result is what API Gateway returns.
  const invokeFunction = async (event: unknown) => {
    const invocation = await fn.invoke(event);
    if (invocation.error) throw new Error(`the invocation failed: ${invocation.error.body.errorMessage}`);
    return invocation.result as { statusCode?: number; headers?: Record<string, unknown>; body?: string; isBase64Encoded?: boolean };
  };
  front.attach(bufferedLambdaFetch(invokeFunction, (request) => httpApiEvent(request, { domainName: front.domainName, stage: "$default" })));
});

afterAll(async () => {
  await front?.close();
  await fn?.close();
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
    expect(fn.accessLog()).toContainEqual(expect.objectContaining({ httpMethod: "GET", path: "/mcp", status: 405 }));
  });
});
