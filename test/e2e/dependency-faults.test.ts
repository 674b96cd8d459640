/**
 * Faults in what the gateway depends on, through the real gateway over HTTP: signing keys that cannot be had when
 * the gateway starts, SSM Parameter Store unreachable or throttling (moto's server behind a relay that injects AWS's
 * errors), and a policy file that breaks while the gateway runs.
 *
 * Each fault must have a defined outcome (a status, a JSON-RPC error body, a log line saying why), never a crash,
 * and never fail open: without keys or a policy every request is refused before the backend is asked, and a policy
 * that cannot be re-read leaves the last good one in force, so a denied call stays refused and a list filtered.
 */
import { randomUUID } from "node:crypto";
import { rm, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { serveFetch, type LocalServer } from "../../functions/adapters/node-server.js";
import { JWKS_PATH, publicJwk } from "../../functions/demo/identity-provider.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import {
  REFUSED_ECHO,
  UNAVAILABLE_KEYS,
  UNAVAILABLE_POLICY,
  WALKTHROUGH,
  bearer,
  callEcho,
  sleep,
  toolsSeen,
  useFaultWorld,
} from "../support/fault-fixtures.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { INITIALIZE, POLICIES, connectClient, gatewaySettings, postRaw, type TestGateway } from "../support/gateway.js";
import { providerPaths, startOidcProvider } from "../support/oidc-provider.js";
import { freePort } from "../support/ports.js";

const world = useFaultWorld();
const { closers, gatewayWith } = world;

describe("signing keys unavailable when the gateway starts (warm-up failed)", () => {
  let backend: TestBackend;
  let upstream: CountingProxy;
  beforeAll(async () => {
    backend = await startBackend();
    upstream = await startCountingProxy(backend.url);
    closers.push(backend, upstream);
  });

  async function expectKeysUnavailable(gateway: TestGateway, reason: RegExp): Promise<void> {
    const relayedBefore = upstream.requests.length;
    const response = await postRaw(gateway.url, INITIALIZE, bearer(world.boss));
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: UNAVAILABLE_KEYS });
    expect(gateway.logger.last()).toMatchObject({ status: 503, decision: "denied" });
    expect(gateway.logger.last().reason).toMatch(reason);
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  }

  // The JWKS endpoint answers, but not with keys: a maintenance page, an error status. Either way no token could be
  // judged, so 503 (retry), never a 401 telling the caller its token is bad.
  it.each([
    ["an HTML page with status 200", () => new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } }), /^JWKS unavailable: JWKS could not be parsed as JSON/],
    ["status 500", () => new Response("oops", { status: 500 }), /^JWKS unavailable: .*Status code is 500, expected 200/],
    ["a JSON document without keys", () => Response.json({ error: "not here" }), /^JWKS unavailable: JWKS does not include keys$/],
  ] as const)("JWKS_URI answering %s: 503 until it serves the keys, then the token verifies", async (_, broken, reason) => {
    let healthy = false;
    const jwks: LocalServer = await serveFetch(async () => (healthy ? Response.json({ keys: [publicJwk(world.idp.key)] }) : broken()), { port: 0 });
    closers.push(jwks);
    const gateway = await gatewayWith(gatewaySettings({ jwksUri: `${jwks.url}${JWKS_PATH}` }, upstream.url, { POLICY_FILE: POLICIES.walkthrough }));
    await expectKeysUnavailable(gateway, reason);
    await expectKeysUnavailable(gateway, reason);
    healthy = true;
    const response = await postRaw(gateway.url, INITIALIZE, bearer(world.boss));
    expect(response.status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "pointy-haired-boss" });
  });

  it("the issuer down when the gateway starts (keys found by OIDC discovery): 503 until it is up, then its tokens verify", async () => {
    const first = await startOidcProvider({ issuerPath: "/realms/late" });
    const { port, keys, issuer } = first;
    const token = await first.token({ roles: ["admin"] }, { subject: "early-bird" });
    await first.close();

    const gateway = await gatewayWith({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: POLICIES.walkthrough, JWT_ISSUER: issuer, JWT_AUDIENCE: "mcp-gateway" });
    const reason = new RegExp(`^JWKS unavailable: Failed to fetch ${issuer}/\\.well-known/openid-configuration: fetch failed: connect ECONNREFUSED \\S+:${port}$`);
    await expectKeysUnavailable(gateway, reason);

    const back = await startOidcProvider({ issuerPath: "/realms/late", port, keys });
    closers.push(back);
    const response = await postRaw(gateway.url, INITIALIZE, bearer(token));
    expect(response.status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "early-bird" });
    const { discovery, jwks } = providerPaths(back);
    expect([back.requests(discovery), back.requests(jwks)]).toEqual([1, 1]);
  });
});

describe("SSM Parameter Store faults", () => {
  /** moto's endpoint, as the global setup published it; the test's own client always talks to it directly. */
  const MOTO = process.env.AWS_ENDPOINT_URL_SSM as string;
  const admin = new SSMClient({ endpoint: MOTO });
  const CACHE_SECONDS = 1;
  const afterCacheExpiry = () => sleep(CACHE_SECONDS * 1000 + 200);
  /** The SDK's default for every AWS call: three attempts, throttling errors retried with backoff. */
  const ATTEMPTS = 3;
  let backend: TestBackend;
  let upstream: CountingProxy;
  const parameters: string[] = [];

  async function put(name: string, value: string): Promise<void> {
    await admin.send(new PutParameterCommand({ Name: name, Value: value, Type: "String", Overwrite: true }));
    parameters.push(name);
  }

  /** Points the gateway's SSM client (it reads the SDK's standard AWS_ENDPOINT_URL_SSM) at `endpoint` for a while. */
  function useSsmEndpoint(endpoint: () => string): void {
    beforeAll(() => {
      process.env.AWS_ENDPOINT_URL_SSM = endpoint();
    });
    afterAll(() => {
      process.env.AWS_ENDPOINT_URL_SSM = MOTO;
    });
  }

  function gatewayOn(path: string): Promise<TestGateway> {
    return gatewayWith(gatewaySettings(world.idp, upstream.url, { POLICY_SSM_PATH: path, POLICY_CACHE_SECONDS: String(CACHE_SECONDS) }));
  }

  async function expectNoPolicy(gateway: TestGateway): Promise<void> {
    const relayedBefore = upstream.requests.length;
    for (const message of [INITIALIZE, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } }]) {
      const response = await postRaw(gateway.url, message, bearer(world.boss));
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.json()).toEqual({ jsonrpc: "2.0", id: message.id, error: UNAVAILABLE_POLICY });
      expect(gateway.logger.last()).toMatchObject({ status: 503, decision: "denied", reason: "no authorization policy is loaded (fail closed)" });
    }
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  }

  beforeAll(async () => {
    expect(MOTO).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    backend = await startBackend();
    upstream = await startCountingProxy(backend.url);
    closers.push(backend, upstream);
  });
  afterAll(async () => {
    if (parameters.length > 0) await admin.send(new DeleteParametersCommand({ Names: [...new Set(parameters)] }));
    process.env.AWS_ENDPOINT_URL_SSM = MOTO;
  });

  describe("SSM unreachable (AWS_ENDPOINT_URL_SSM on a port nothing listens on)", () => {
    let closedPort: number;
    beforeAll(async () => {
      closedPort = await freePort();
    });
    useSsmEndpoint(() => `http://127.0.0.1:${closedPort}`);

    it("refuses every MCP request with 503 and says why, with nothing sent to the backend", async () => {
      const gateway = await gatewayOn(`/mcp-sso-gateway-test/${randomUUID()}`);
      await expectNoPolicy(gateway);
      const failure = gateway.logger.lines.find((l) => l.message === "no policy could be loaded; every MCP request is refused");
      expect(failure).toMatchObject({ level: "error", fields: { error: expect.stringMatching(/ECONNREFUSED/) } });
      expect(backend.executed).toEqual([]);
    });
  });

  describe("SSM throttling (ThrottlingException from a relay in front of moto)", () => {
    let relay: FaultProxy;
    beforeAll(async () => {
      relay = await startFaultProxy(MOTO);
      closers.push(relay);
    });
    useSsmEndpoint(() => relay.url);
    afterEach(() => {
      relay.fault = () => undefined;
    });

    const throttled = () => relay.count("GetParametersByPath", "throttle");
    const reloadFailures = (gateway: TestGateway) => gateway.logger.lines.filter((l) => l.message === "policy reload failed; keeping the last good policy");

    it("keeps enforcing the policy it has while every read is throttled: denied stays denied, allowed stays allowed", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      const relayedBefore = relay.count("GetParametersByPath", "relayed");
      const gateway = await gatewayOn(path);
      expect(relay.count("GetParametersByPath", "relayed")).toBe(relayedBefore + 1);
      const employee = await connectClient(gateway.url, world.jsmith);
      const manager = await connectClient(gateway.url, world.boss);
      closers.push(employee, manager);
      backend.executed.length = 0;

      const throttledBefore = throttled();
      relay.fault = (operation) => (operation === "GetParametersByPath" ? "throttle" : undefined);
      // A change made meanwhile cannot be read either: the policy in force stays the one loaded.
      await put(`${path}/everyone-echo`, "tools:\n  echo: ['*']\n");
      await afterCacheExpiry();

      expect(await toolsSeen(employee)).toEqual([]);
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(await toolsSeen(manager)).toEqual(["echo"]);
      expect(await callEcho(manager)).toBe("ran");
      await afterCacheExpiry();
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(backend.executed).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hi" } }]);

      // Each reload was tried three times (the SDK retries throttling with backoff), then given up on.
      const failures = reloadFailures(gateway);
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(throttled() - throttledBefore).toBe(failures.length * ATTEMPTS);
      for (const failure of failures) expect(failure).toMatchObject({ level: "error", fields: { error: "Rate exceeded" } });

      // Once reads succeed again, the change is picked up.
      relay.fault = () => undefined;
      await afterCacheExpiry();
      expect(await toolsSeen(employee)).toEqual(["echo"]);
    });

    it("refuses everything with 503 while it never loaded a policy, and loads it once reads succeed", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      relay.fault = (operation) => (operation === "GetParametersByPath" ? "throttle" : undefined);
      const throttledBefore = throttled();
      const gateway = await gatewayOn(path);

      await expectNoPolicy(gateway);
      const failures = gateway.logger.lines.filter((l) => l.message === "no policy could be loaded; every MCP request is refused");
      expect(failures.length).toBeGreaterThanOrEqual(1);
      for (const failure of failures) expect(failure.fields.error).toBe("Rate exceeded");
      expect(throttled() - throttledBefore).toBe(failures.length * ATTEMPTS);

      relay.fault = () => undefined;
      await afterCacheExpiry();
      const response = await postRaw(gateway.url, INITIALIZE, bearer(world.boss));
      expect(response.status).toBe(200);
      expect(gateway.logger.lines.some((l) => l.message === "policy loaded")).toBe(true);
    });

    it("keeps the policy it has when SSM goes away mid-request (connections reset)", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      const gateway = await gatewayOn(path);
      const employee = await connectClient(gateway.url, world.jsmith);
      const manager = await connectClient(gateway.url, world.boss);
      closers.push(employee, manager);
      const resetBefore = relay.count("GetParametersByPath", "reset");

      relay.fault = () => "reset";
      await afterCacheExpiry();
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(await toolsSeen(employee)).toEqual([]);
      expect(await callEcho(manager)).toBe("ran");
      const failures = reloadFailures(gateway);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(relay.count("GetParametersByPath", "reset") - resetBefore).toBe(failures.length * ATTEMPTS);
    });
  });
});

describe("a policy file that breaks while the gateway runs (POLICY_FILE, re-read after POLICY_CACHE_SECONDS)", () => {
  it("keeps the last good policy while the file is invalid or missing, and takes a valid one again", async () => {
    const backend = await startBackend();
    closers.push(backend);
    const file = join(await mkdtemp(join(tmpdir(), "faults-policy-")), "policy.yaml");
    await writeFile(file, WALKTHROUGH);
    const gateway = await gatewayWith(gatewaySettings(world.idp, backend.url, { POLICY_FILE: file, POLICY_CACHE_SECONDS: "1" }));
    const employee = await connectClient(gateway.url, world.jsmith);
    const manager = await connectClient(gateway.url, world.boss);
    closers.push(employee, manager);

    // A grant for everyone, broken by a CEL rule that does not compile: the whole document is refused.
    await writeFile(file, "tools:\n  echo: ['*']\nrules:\n- 'mcp.tool.name =='\n");
    await sleep(1_200);
    expect(await callEcho(employee)).toBe(REFUSED_ECHO);
    expect(await toolsSeen(employee)).toEqual([]);
    expect(await callEcho(manager)).toBe("ran");

    await rm(file);
    await sleep(1_200);
    expect(await callEcho(employee)).toBe(REFUSED_ECHO);
    expect(await callEcho(manager)).toBe("ran");

    const failures = gateway.logger.lines.filter((l) => l.message === "policy reload failed; keeping the last good policy").map((l) => String(l.fields.error));
    expect(failures.some((error) => error.startsWith(`${file} rules[0]: `))).toBe(true);
    expect(failures.some((error) => error.startsWith("ENOENT"))).toBe(true);
    expect(failures.every((error) => error.startsWith(`${file} rules[0]: `) || error.startsWith("ENOENT"))).toBe(true);
    expect(backend.executed.map((e) => e.name)).toEqual(["echo", "echo"]);

    await writeFile(file, "tools:\n  echo: ['*']\n");
    await sleep(1_200);
    expect(await callEcho(employee)).toBe("ran");
  });
});
