/**
 * The token the gateway mints for the backend: signed with a key kept in SSM (moto's server), naming the verified
 * caller, verifiable against the gateway's published JWKS, and never the caller's own token.
 */
import { randomUUID } from "node:crypto";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRecordingBackend, type RecordingBackend } from "../support/recording-backend.js";
import { generateSigningKey } from "../../functions/demo/identity-provider.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const ssm = new SSMClient({});
const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
const keyParameter = `/mcp-sso-gateway-test/${randomUUID()}/backend-token-key`;

let idp: TestIdentityProvider;
let backend: RecordingBackend;
let received: Headers[] = [];
const gateways: TestGateway[] = [];

async function gatewayWith(extra: Record<string, string>): Promise<TestGateway> {
  const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, ...extra }));
  gateways.push(gateway);
  return gateway;
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startRecordingBackend();
  received = backend.received;
  const key = await generateSigningKey("ES256");
  await ssm.send(new PutParameterCommand({ Name: keyParameter, Type: "SecureString", Value: JSON.stringify(key), Overwrite: true }));
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  received.length = 0;
});

describe("the gateway's token for the backend", () => {
  it("names the verified caller, verifies against the gateway's JWKS, and is not the caller's token", async () => {
    const gateway = await gatewayWith({ BACKEND_TOKEN_HEADER: "X-Gateway-Token", BACKEND_TOKEN_KEY_SSM_PARAMETER: keyParameter, BACKEND_TOKEN_CLAIMS: "sub,roles" });
    const callerToken = await idp.token({ subject: "jsmith", claims: { roles: ["admin"], email: "j@example.com" } });
    expect((await postRaw(gateway.url, ping, { authorization: `Bearer ${callerToken}` })).status).toBe(200);
    const minted = received[0]?.get("x-gateway-token") as string;
    expect(minted).toMatch(/^ey/);
    expect(minted).not.toBe(callerToken);
    expect(received[0]?.get("authorization")).toBeNull();

    const jwks = createRemoteJWKSet(new URL(`${gateway.origin}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(minted, jwks, { issuer: gateway.origin, audience: new URL(backend.url).origin });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({ sub: "jsmith", roles: ["admin"] });
    expect(payload).not.toHaveProperty("email");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it("publishes the public key only", async () => {
    const gateway = await gatewayWith({ BACKEND_TOKEN_HEADER: "X-Gateway-Token", BACKEND_TOKEN_KEY_SSM_PARAMETER: keyParameter });
    const document = (await (await fetch(`${gateway.origin}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(document.keys).toHaveLength(1);
    expect(document.keys[0]).toMatchObject({ kty: "EC", alg: "ES256", use: "sig" });
    expect(document.keys[0]).not.toHaveProperty("d");
  });

  it("sends it as a bearer token when the header is Authorization", async () => {
    const gateway = await gatewayWith({ BACKEND_TOKEN_HEADER: "Authorization", BACKEND_TOKEN_KEY_SSM_PARAMETER: keyParameter, BACKEND_TOKEN_AUDIENCE: "urn:backend", BACKEND_TOKEN_TTL_SECONDS: "60" });
    await postRaw(gateway.url, ping, { authorization: `Bearer ${await idp.token({ subject: "ann" })}` });
    const header = received[0]?.get("authorization") ?? "";
    expect(header).toMatch(/^Bearer ey/);
    const { payload } = await jwtVerify(header.slice(7), createRemoteJWKSet(new URL(`${gateway.origin}/.well-known/jwks.json`)), { audience: "urn:backend" });
    expect([payload.sub, (payload.exp ?? 0) - (payload.iat ?? 0)]).toEqual(["ann", 60]);
  });

  it("refuses with 502, sending nothing, when the signing key cannot be read", async () => {
    const gateway = await gatewayWith({ BACKEND_TOKEN_HEADER: "X-Gateway-Token", BACKEND_TOKEN_KEY_SSM_PARAMETER: `/mcp-sso-gateway-test/${randomUUID()}/missing` });
    const response = await postRaw(gateway.url, ping, { authorization: `Bearer ${await idp.token()}` });
    expect(response.status).toBe(502);
    expect(gateway.logger.last()).toMatchObject({ status: 502, reason: expect.stringMatching(/^backend token signing key unavailable/) });
    expect(received).toEqual([]);
  });
});
