/**
 * What a cold start talks to, on loopback and with an adjustable delay, recording when each request arrived:
 * - an identity provider's JWKS endpoint;
 * - a stand-in for the two AWS APIs the deployed function calls while it initialises (AWS JSON 1.1 protocol):
 *   SSM GetParametersByPath (the policy, `POLICY_SSM_PATH`) and Secrets Manager GetSecretValue (the session key,
 *   `SESSION_KEY_SECRET_ID`). The SDK is pointed at it with AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { JWKS_PATH, generateSigningKey, mintToken, publicJwk } from "../../functions/demo/identity-provider.js";
import { AUDIENCE, ISSUER } from "../support/identity-provider.js";

export const POLICY_SSM_PATH = "/bench/policy";
export const SESSION_SECRET_ID = "bench-session-key";

export interface Arrival {
  what: "keys" | "policy" | "session key";
  /** performance.now() of this process when the request arrived. */
  at: number;
}

export interface InitServers {
  jwksUri: string;
  awsEndpoint: string;
  /** Delay before each answer, milliseconds. */
  delayMs: number;
  arrivals: Arrival[];
  /** A token signed with the published key, valid one hour. */
  token(subject: string, roles: string[]): Promise<string>;
  close(): Promise<void>;
}

function listen(handle: (request: IncomingMessage, body: string, response: ServerResponse) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      handle(request, body, response).catch((err: unknown) => {
        response.writeHead(500).end(String(err));
      });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

export async function startInitServers(policyYaml: string): Promise<InitServers> {
  const key = await generateSigningKey();
  const sessionKey = randomBytes(32).toString("base64");
  const state = { delayMs: 0, arrivals: [] as Arrival[] };
  const json = (response: ServerResponse, value: unknown, type = "application/json") => {
    response.writeHead(200, { "content-type": type }).end(JSON.stringify(value));
  };
  const idp = await listen(async (request, _body, response) => {
    if (request.url !== JWKS_PATH) return void response.writeHead(404).end();
    state.arrivals.push({ what: "keys", at: performance.now() });
    await sleep(state.delayMs);
    json(response, { keys: [publicJwk(key)] });
  });
  const aws = await listen(async (request, _body, response) => {
    const target = String(request.headers["x-amz-target"] ?? "");
    const type = "application/x-amz-json-1.1";
    if (target === "AmazonSSM.GetParametersByPath") {
      state.arrivals.push({ what: "policy", at: performance.now() });
      await sleep(state.delayMs);
      return json(response, { Parameters: [{ Name: `${POLICY_SSM_PATH}/walkthrough`, Type: "String", Value: policyYaml, Version: 1 }] }, type);
    }
    if (target === "secretsmanager.GetSecretValue") {
      state.arrivals.push({ what: "session key", at: performance.now() });
      await sleep(state.delayMs);
      return json(response, { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SESSION_SECRET_ID}`, Name: SESSION_SECRET_ID, SecretString: sessionKey }, type);
    }
    response.writeHead(400, { "content-type": type }).end(JSON.stringify({ __type: "UnknownOperationException", message: target }));
  });
  return {
    jwksUri: `${idp.url}${JWKS_PATH}`,
    awsEndpoint: aws.url,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get arrivals() {
      return state.arrivals;
    },
    set arrivals(value: Arrival[]) {
      state.arrivals = value;
    },
    token: (subject, roles) => mintToken(key, { issuer: ISSUER, audience: AUDIENCE, subject, claims: { roles }, expiresIn: "1h" }),
    close: async () => {
      await Promise.all([idp.close(), aws.close()]);
    },
  };
}
