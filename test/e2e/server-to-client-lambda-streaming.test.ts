/**
 * Server-to-client traffic through the streaming Lambda front door (functions/streaming-handler.ts behind a REST API
 * in STREAM mode), run through the in-process stand-in for the Lambda runtime's response streaming (fast; the
 * reference is test/e2e/lambda-runtime-client.test.ts, under AWS's own runtime client): a real v1-SDK client whose
 * requests become REST API events, and whose responses grow as the function writes, so the client can answer the
 * backend's requests while the call's invocation is still running, and the standalone GET stream is held open by its
 * own invocation. The scenarios are those of every front door (server-to-client-scenarios.ts).
 */
import { describe } from "vitest";
import { restApiEvent, type ClientRequest } from "../support/api-gateway-events.js";
import { streamingLambdaFetch } from "../support/lambda-fetch.js";
import { installLambdaStreamingRuntime } from "../support/lambda-streaming-runtime.js";
import { loadLambdaFunction, useFrontDoor } from "../support/server-to-client-front-doors.js";
import { itCarriesServerToClientTraffic } from "../support/server-to-client-scenarios.js";

const DOMAIN = "mcp.example.com";

const stage = useFrontDoor(async (idp, backend, policyFile) => {
  const removeRuntime = installLambdaStreamingRuntime();
  const lambda = await loadLambdaFunction(idp, backend, policyFile, () => import("../../functions/streaming-handler.js"));
  const toEvent = (request: ClientRequest) => restApiEvent(request, { domainName: DOMAIN, stage: "prod" });
  return lambda.frontDoor(`https://${DOMAIN}/mcp`, streamingLambdaFetch(lambda.module.handler, toEvent, lambda.onInvoke), removeRuntime);
});

describe("server-to-client traffic through the streaming Lambda front door", () => {
  itCarriesServerToClientTraffic(stage, { roundTrips: true, standaloneStream: true });
});
