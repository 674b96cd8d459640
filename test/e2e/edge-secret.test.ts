/**
 * The front door's secret (EDGE_SECRET_HEADER), kept in Secrets Manager (moto's server): when CloudFront fronts the
 * function URL it adds the header to every request, and a request without it, or with another value, is refused with
 * 403 before anything else, so the function's own URL cannot be used to go around CloudFront and its WAF. The backend
 * never sees the header, and a secret that cannot be read refuses every request (503) instead of letting any in.
 */
import { randomUUID } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRecordingBackend, type RecordingBackend } from "../support/recording-backend.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
const HEADER = "X-Origin-Verify";
const SECRET = `edge-${randomUUID()}`;

let idp: TestIdentityProvider;
let backend: RecordingBackend;
let gateway: TestGateway;
let auth: Record<string, string>;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startRecordingBackend();
  const secretName = `mcp-sso-gateway-test/${randomUUID()}/edge`;
  await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: secretName, SecretString: SECRET }));
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, EDGE_SECRET_HEADER: HEADER, EDGE_SECRET_SECRET_ID: secretName }));
  closers.push(gateway, backend, idp);
  auth = { authorization: `Bearer ${await idp.token()}` };
});
afterAll(async () => {
  for (const closer of closers.reverse()) await closer.close();
});
beforeEach(() => {
  backend.received.length = 0;
});

describe("the front door's secret", () => {
  it("lets a request carrying it through, and does not pass it on to the backend", async () => {
    const response = await postRaw(gateway.url, ping, { ...auth, [HEADER]: SECRET });
    expect(response.status).toBe(200);
    expect(backend.received).toHaveLength(1);
    expect(backend.received[0]?.get(HEADER)).toBeNull();
  });

  it.each([
    ["without the header", {}],
    ["with another value", { [HEADER]: `${SECRET}x` }],
    ["with an empty value", { [HEADER]: "" }],
  ])("refuses a request %s with 403 before anything else, even with a valid token", async (_, headers) => {
    for (const path of ["/mcp", "/.well-known/oauth-protected-resource"]) {
      const response = await postRaw(`${gateway.origin}${path}`, ping, { ...auth, ...headers });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Forbidden: requests must come through the gateway's front door" } });
      expect(gateway.logger.last()).toMatchObject({ status: 403, decision: "denied", reason: expect.stringMatching(/front door/) });
      expect(gateway.logger.last()).not.toHaveProperty("subject");
    }
    expect(backend.received).toEqual([]);
  });

  it("refuses everything with 503 when the secret cannot be read", async () => {
    const broken = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, EDGE_SECRET_HEADER: HEADER, EDGE_SECRET_SECRET_ID: `missing-${randomUUID()}` }));
    closers.push(broken);
    const response = await postRaw(broken.url, ping, { ...auth, [HEADER]: SECRET });
    expect(response.status).toBe(503);
    expect(broken.logger.last()).toMatchObject({ status: 503, reason: expect.stringContaining("front door secret unavailable") });
    expect(backend.received).toEqual([]);
  });
});
