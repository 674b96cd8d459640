/**
 * `mcp-sso-gateway doctor` against the streaming Lambda entry point (functions/streaming-handler.ts, through the
 * stand-in for the runtime's response streaming) behind a REST API stand-in over real HTTP, on its execute-api URL:
 * the stage is the first path segment (`/prod/mcp`), so the well-known URIs at the host root are API Gateway's own 403.
 * It passes with a warning for each of them (the challenge names a URL under the stage, which works), and sees the
 * responses stream. When the REST API also renames the challenge (as REST APIs document for buffered responses), no
 * route to the metadata is left for clients, and doctor says so.
 *
 * The stand-in, not AWS's runtime client (runtime-function.ts), runs the function here: a local Runtime API serves one
 * invocation at a time, as one execution environment does, while the client doctor drives holds its GET stream open
 * and goes on with other requests, which Lambda answers from other environments; and environments in separate
 * processes would not know each other's sessions without a shared session key.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startApiGatewayFront, type ApiGatewayFront } from "../support/api-gateway-front.js";
import { restApiEvent } from "../support/api-gateway-events.js";
import { lineOf, linesOf, runDoctor, startDoctorStage, type DoctorStage } from "../support/doctor-deployment.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { captureFunctionLogs } from "../support/function-logs.js";
import { streamingLambdaFetch } from "../support/lambda-fetch.js";
import { installLambdaStreamingRuntime } from "../support/lambda-streaming-runtime.js";

let stage: DoctorStage;
let front: ApiGatewayFront;
let removeRuntime: () => void = () => undefined;
let restoreEnvironment: () => void = () => undefined;

beforeAll(async () => {
  removeRuntime = installLambdaStreamingRuntime();
  [stage, front] = await Promise.all([startDoctorStage(), startApiGatewayFront({ restStage: "prod" })]);
  restoreEnvironment = setFunctionEnvironment(stage.settings({ PUBLIC_URL: front.publicUrl }));
  captureFunctionLogs("mcp-sso-gateway");
  const { handler } = await import("../../functions/streaming-handler.js");
  front.attach(streamingLambdaFetch(handler, (request) => restApiEvent(request, { domainName: front.domainName, stage: "prod", executeApiDomain: true })));
});

afterAll(async () => {
  vi.restoreAllMocks();
  removeRuntime();
  restoreEnvironment();
  await front?.close();
  await stage?.close();
});

describe("doctor against the streaming Lambda function behind a REST API stage", () => {
  it("passes, warning of the host-root well-known URIs that are not routable and whom that leaves out, and sees streaming", async () => {
    front.remapsChallenge = false;
    const url = `${front.publicUrl}/mcp`;
    const origin = new URL(url).origin;
    const run = await runDoctor(url, "--token", stage.token);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(lineOf(run, "challenge")).toBe(`ok   challenge: 401 with WWW-Authenticate: Bearer resource_metadata="${origin}/prod/.well-known/oauth-protected-resource/mcp"`);
    const stageHint = "Fix: if this is a REST API's execute-api URL, only paths under its stage (/prod) reach the function; a custom domain serves the endpoint at the host root, with these URIs.";
    expect(linesOf(run, "metadata at ")).toEqual([
      `ok   metadata at ${origin}/prod/.well-known/oauth-protected-resource/mcp: the challenge's resource_metadata URL: resource ${url}, authorization servers ${stage.idp.issuer}`,
      `warn metadata at ${origin}/.well-known/oauth-protected-resource/prod/mcp: the well-known URI with the endpoint's path: 403 Forbidden: ` +
        `clients that get no usable challenge try this URI first (MCP 2025-11-25); clients that read the challenge do not need it. ${stageHint}`,
      `warn metadata at ${origin}/.well-known/oauth-protected-resource: the well-known URI at the host root: 403 Forbidden: ` +
        "clients that get no usable challenge and no document at the path-aware URI try this one last (MCP 2025-11-25), and clients that look only at the host root cannot sign in; " +
        `clients that read the challenge do not need it. ${stageHint}`,
    ]);
    expect(lineOf(run, "tools/list")).toBe("ok   tools/list: this caller sees 7 tools over 3 pages");
    expect(lineOf(run, "streaming")).toBe("ok   streaming: GET opened a text/event-stream: progress, logging and server requests arrive as they happen");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("8 ok, 3 warnings, 0 failures: MCP clients can sign in and work through this endpoint");
  });

  it("fails when the challenge also comes renamed: clients are left no way to the metadata", async () => {
    front.remapsChallenge = true;
    try {
      const run = await runDoctor(`${front.publicUrl}/mcp`);
      expect(run.code).toBe(1);
      expect(run.stdout.split("\n").filter((line) => line.startsWith("fail "))).toEqual([
        expect.stringMatching(/^fail challenge: 401, but the challenge came renamed, as x-amzn-Remapped-WWW-Authenticate: .* Fix: give the stack a custom domain/),
        "fail discovery: no URL clients try without a usable challenge serves the metadata: no MCP client can find where to sign in.",
      ]);
      // The well-known URIs stay warnings: the failure is that nothing is left, said once.
      expect(linesOf(run, "metadata at ").map((line) => line.slice(0, 5))).toEqual(["ok   ", "warn ", "warn "]);
    } finally {
      front.remapsChallenge = false;
    }
  });
});
