/**
 * The gateway's own credential for the backend, from SSM Parameter Store or Secrets Manager (moto's server): sent in
 * the configured header instead of the caller's token, refreshed, the last good value kept, and no request sent
 * without it.
 */
import { randomUUID } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRecordingBackend, type RecordingBackend } from "../support/recording-backend.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const ssm = new SSMClient({});
const ping = { jsonrpc: "2.0", id: 1, method: "ping" };

let idp: TestIdentityProvider;
let backend: RecordingBackend;
let received: Headers[] = [];
let auth: Record<string, string>;
const gateways: TestGateway[] = [];

async function gatewayWith(extra: Record<string, string>): Promise<TestGateway> {
  const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, ...extra }));
  gateways.push(gateway);
  return gateway;
}

const putSecureString = (name: string, value: string) =>
  ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: "SecureString", Overwrite: true }));

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startRecordingBackend();
  received = backend.received;
  auth = { authorization: `Bearer ${await idp.token()}` };
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  received.length = 0;
});

describe("backend credential", () => {
  it("sends the SecureString's value in the configured header, never the caller's token", async () => {
    const name = `/mcp-sso-gateway-test/${randomUUID()}/backend-token`;
    await putSecureString(name, "Bearer gateway-to-backend-1");
    const gateway = await gatewayWith({ BACKEND_CREDENTIAL_HEADER: "Authorization", BACKEND_CREDENTIAL_SSM_PARAMETER: name });
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.get("authorization")).toBe("Bearer gateway-to-backend-1");
  });

  it("reads a Secrets Manager secret into another header", async () => {
    const secretName = `mcp-sso-gateway-test/${randomUUID()}`;
    await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: secretName, SecretString: "api-key-42" }));
    const gateway = await gatewayWith({ BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SECRET_ID: secretName });
    expect((await postRaw(gateway.url, ping, auth)).status).toBe(200);
    expect(received[0]?.get("x-api-key")).toBe("api-key-42");
    expect(received[0]?.get("authorization")).toBeNull();
  });

  it("refreshes the value, and keeps the last good one when it can no longer be read", async () => {
    const name = `/mcp-sso-gateway-test/${randomUUID()}/rotating`;
    await putSecureString(name, "v1");
    const gateway = await gatewayWith({ BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SSM_PARAMETER: name, BACKEND_CREDENTIAL_CACHE_SECONDS: "1" });
    await postRaw(gateway.url, ping, auth);
    await putSecureString(name, "v2");
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await postRaw(gateway.url, ping, auth);
    await ssm.send(new DeleteParameterCommand({ Name: name }));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await postRaw(gateway.url, ping, auth);
    expect(received.map((h) => h.get("x-api-key"))).toEqual(["v1", "v2", "v2"]);
    expect(gateway.logger.lines.some((l) => l.message === "backend credential refresh failed; keeping the last good value")).toBe(true);
  });

  it("refuses with 502, and sends nothing to the backend, when no credential can be read", async () => {
    const gateway = await gatewayWith({ BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SSM_PARAMETER: `/mcp-sso-gateway-test/${randomUUID()}/missing` });
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ id: 1, error: { code: -32003 } });
    expect(gateway.logger.last()).toMatchObject({ status: 502, reason: expect.stringMatching(/^backend credential unavailable/) });
    expect(received).toEqual([]);
  });
});
