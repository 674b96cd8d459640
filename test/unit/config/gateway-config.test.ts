import { describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { PRESETS, type PresetName } from "../../../functions/config/issuers.js";
import { isLoopbackUrl } from "../../../functions/config/loopback.js";
import { ConfigError } from "../../../functions/errors.js";

type Env = Record<string, string | undefined>;

const MINIMAL: Env = {
  MCP_BACKEND_URL: "http://localhost:8000/mcp",
  JWT_ISSUER: "https://idp.example.com",
  JWT_AUDIENCE: "mcp-gateway",
  POLICY_FILE: "policies/walkthrough.yaml",
};

/** The problems a configuration is refused with (fails the test when it is accepted). */
function problems(env: Env): readonly string[] {
  try {
    loadConfigFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe("loadConfigFromEnv: defaults", () => {
  it("fills every optional setting with its documented default", () => {
    const config = loadConfigFromEnv(MINIMAL);
    expect(config).toEqual({
      backends: [
        { name: "backend", url: new URL("http://localhost:8000/mcp"), timeoutMs: 25_000, credential: undefined, identityHeaders: [], token: undefined },
      ],
      issuers: [
        {
          issuer: "https://idp.example.com",
          audience: ["mcp-gateway"],
          audienceClaim: "aud",
          jwksUri: undefined,
          rolesClaim: "roles",
          scopesClaim: "scope",
          clientIds: [],
          requiredScopes: [],
          requiredClaims: [],
          requireAtJwt: false,
          requireSub: true,
          accessTokenMarkers: [],
          preset: undefined,
        },
      ],
      policySource: { kind: "file", path: "policies/walkthrough.yaml" },
      policyCacheSeconds: 60,
      policyDryRun: false,
      mcpPath: "/mcp",
      publicUrl: undefined,
      authorizationServers: ["https://idp.example.com"],
      scopesSupported: [],
      corsAllowedOrigins: [],
      maxBodyBytes: 1_048_576,
      maxBackendMessageBytes: 16_777_216,
      sseKeepAliveSeconds: 25,
    });
  });

  it("treats empty variables as unset", () => {
    const config = loadConfigFromEnv({ ...MINIMAL, ROLES_CLAIM: "", MCP_PATH: "", BACKEND_TIMEOUT_MS: "", JWKS_URI: "", PUBLIC_URL: "" });
    expect([config.issuers[0]?.rolesClaim, config.issuers[0]?.jwksUri, config.mcpPath, config.backends[0]?.timeoutMs, config.publicUrl]).toEqual([
      "roles",
      undefined,
      "/mcp",
      25_000,
      undefined,
    ]);
  });

  it("leaves the JWKS URI of an https issuer to OIDC discovery", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_ISSUER: "https://idp.example.com/realms/acme" }).issuers[0]?.jwksUri).toBeUndefined();
  });

  it("reads comma-separated audiences and authorization servers, trimming and dropping empty entries", () => {
    const config = loadConfigFromEnv({ ...MINIMAL, JWT_AUDIENCE: " a, b ,,c ", AUTHORIZATION_SERVERS: "https://as1, https://as2" });
    expect(config.issuers[0]?.audience).toEqual(["a", "b", "c"]);
    expect(config.authorizationServers).toEqual(["https://as1", "https://as2"]);
  });

  it("publishes an http issuer by default only on a loopback address (a local IdP), as it publishes https ones", () => {
    const local = loadConfigFromEnv({ ...MINIMAL, JWT_ISSUER: "http://localhost:9000/realms/dev", JWKS_URI: "http://localhost:9000/jwks" });
    expect(local.authorizationServers).toEqual(["http://localhost:9000/realms/dev"]);
    const remote = loadConfigFromEnv({ ...MINIMAL, JWT_ISSUER: "http://idp.internal/realms/dev", JWKS_URI: "https://idp.internal/jwks" });
    expect(remote.authorizationServers).toEqual([]);
  });

  it("takes explicit values", () => {
    const config = loadConfigFromEnv({
      ...MINIMAL,
      POLICY_FILE: undefined,
      POLICY_SSM_PATH: "/gateway/policies",
      BACKEND_TIMEOUT_MS: "900000",
      POLICY_CACHE_SECONDS: "0",
      MAX_BODY_BYTES: "1024",
      ROLES_CLAIM: "realm_access.roles",
      MCP_PATH: "/v1/mcp",
      PUBLIC_URL: "https://mcp.example.com",
    });
    expect(config).toMatchObject({
      policySource: { kind: "ssm", path: "/gateway/policies" },
      backends: [expect.objectContaining({ timeoutMs: 900_000 })],
      policyCacheSeconds: 0,
      maxBodyBytes: 1024,
      issuers: [expect.objectContaining({ rolesClaim: "realm_access.roles" })],
      mcpPath: "/v1/mcp",
      publicUrl: new URL("https://mcp.example.com"),
    });
  });
});

describe("loadConfigFromEnv: refusals", () => {
  it("reports every missing required variable at once, naming each", () => {
    const found = problems({});
    for (const name of ["MCP_BACKEND_URL", "JWT_ISSUER", "JWT_AUDIENCE", "POLICY_FILE or POLICY_SSM_PATH"]) {
      expect(found.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(() => loadConfigFromEnv({})).toThrow(/MCP_BACKEND_URL[\s\S]*JWT_ISSUER[\s\S]*JWT_AUDIENCE/);
  });

  it("names each bad variable of several", () => {
    const found = problems({ ...MINIMAL, MCP_BACKEND_URL: "nope", BACKEND_TIMEOUT_MS: "0", MAX_BODY_BYTES: "x" });
    expect(found).toHaveLength(3);
    expect(found.map((p) => p.split(" ")[0])).toEqual(["MCP_BACKEND_URL", "BACKEND_TIMEOUT_MS", "MAX_BODY_BYTES"]);
  });

  it.each([["not a url"], ["localhost:8000/mcp"], ["ftp://backend/mcp"], ["file:///etc/passwd"]])("refuses MCP_BACKEND_URL=%s", (url) => {
    expect(problems({ ...MINIMAL, MCP_BACKEND_URL: url })).toEqual([expect.stringMatching(/^MCP_BACKEND_URL must be an/)]);
  });

  it("refuses an audience list with no audience in it", () => {
    expect(problems({ ...MINIMAL, JWT_AUDIENCE: " , " })).toEqual([expect.stringMatching(/^JWT_AUDIENCE /)]);
  });

  it.each([["http://idp.example.com/jwks"], ["http://10.0.0.5/jwks"], ["http://localhost.example.com/jwks"], ["http://127.0.0.1.nip.io/jwks"]])(
    "refuses plain http JWKS_URI off loopback: %s",
    (uri) => {
      expect(problems({ ...MINIMAL, JWKS_URI: uri })).toEqual([expect.stringMatching(/^JWKS_URI must use https/)]);
    },
  );

  it.each([["http://localhost:9000/jwks"], ["http://127.0.0.5:9000/jwks"], ["http://[::1]:9000/jwks"], ["https://idp.example.com/keys"]])(
    "accepts JWKS_URI=%s",
    (uri) => {
      expect(loadConfigFromEnv({ ...MINIMAL, JWKS_URI: uri }).issuers[0]?.jwksUri?.href).toBe(new URL(uri).href);
    },
  );

  it("needs JWKS_URI when the issuer cannot be discovered (not an https URL, nor a loopback one)", () => {
    const needed = "JWKS_URI is required when the issuer is not an https URL (keys are otherwise found by OIDC discovery)";
    expect(problems({ ...MINIMAL, JWT_ISSUER: "acme-idp" })).toEqual([needed]);
    expect(problems({ ...MINIMAL, JWT_ISSUER: "http://idp.example.com" })).toEqual([needed]);
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_ISSUER: "http://127.0.0.1:9000" }).issuers[0]?.jwksUri).toBeUndefined();
  });

  it("refuses both POLICY_FILE and POLICY_SSM_PATH", () => {
    expect(problems({ ...MINIMAL, POLICY_SSM_PATH: "/gateway/policies" })).toEqual([
      "POLICY_FILE and POLICY_SSM_PATH are both set; choose one policy source",
    ]);
  });

  it("refuses an SSM path that does not start with /", () => {
    expect(problems({ ...MINIMAL, POLICY_FILE: undefined, POLICY_SSM_PATH: "gateway" })).toEqual([
      expect.stringMatching(/^POLICY_SSM_PATH /),
    ]);
  });

  it.each([
    ["BACKEND_TIMEOUT_MS", "0", /at least 1$/],
    ["BACKEND_TIMEOUT_MS", "900001", /at most 900000$/],
    ["BACKEND_TIMEOUT_MS", "1.5", /whole number/],
    ["POLICY_CACHE_SECONDS", "-1", /whole number/],
    ["POLICY_CACHE_SECONDS", "86401", /at most 86400$/],
    ["MAX_BODY_BYTES", "1023", /at least 1024$/],
    ["MAX_BODY_BYTES", "10485761", /at most 10485760$/],
    ["MAX_BODY_BYTES", "1e6", /whole number/],
  ])("refuses %s=%s", (name, value, message) => {
    const found = problems({ ...MINIMAL, [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name} `));
    expect(found[0]).toMatch(message);
  });

  it("refuses an MCP_PATH that is not a path", () => {
    expect(problems({ ...MINIMAL, MCP_PATH: "mcp" })).toEqual([expect.stringMatching(/^MCP_PATH /)]);
    expect(problems({ ...MINIMAL, MCP_PATH: "/mcp?x=1" })).toEqual([expect.stringMatching(/^MCP_PATH /)]);
  });
});

describe("isLoopbackUrl", () => {
  it.each([["http://localhost"], ["http://LOCALHOST:1"], ["http://127.0.0.1"], ["http://127.255.0.9"], ["http://[::1]:80"]])(
    "%s is loopback",
    (url) => expect(isLoopbackUrl(new URL(url))).toBe(true),
  );

  it.each([["http://localhost.example.com"], ["http://127.0.0.1.example.com"], ["http://0.0.0.0"], ["http://[::2]"], ["http://10.0.0.1"]])(
    "%s is not loopback",
    (url) => expect(isLoopbackUrl(new URL(url))).toBe(false),
  );
});

describe("loadConfigFromEnv: backend credential", () => {
  it("reads an SSM parameter or a secret into a header, cached five minutes by default", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SSM_PARAMETER: "/gw/key" }).backends[0]?.credential).toEqual({
      header: "X-Api-Key",
      source: { kind: "ssm", name: "/gw/key" },
      cacheSeconds: 300,
    });
    expect(loadConfigFromEnv({ ...MINIMAL, BACKEND_CREDENTIAL_HEADER: "Authorization", BACKEND_CREDENTIAL_SECRET_ID: "gw/key" }).backends[0]?.credential?.source).toEqual({
      kind: "secretsmanager",
      secretId: "gw/key",
    });
  });

  it.each([
    [{ BACKEND_CREDENTIAL_HEADER: "X-Api-Key" }, "needs exactly one of"],
    [{ BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SSM_PARAMETER: "/a", BACKEND_CREDENTIAL_SECRET_ID: "b" }, "needs exactly one of"],
    [{ BACKEND_CREDENTIAL_SECRET_ID: "b" }, "BACKEND_CREDENTIAL_HEADER is required"],
    [{ BACKEND_CREDENTIAL_HEADER: "Mcp-Session-Id", BACKEND_CREDENTIAL_SECRET_ID: "b" }, "must not be a header the gateway manages"],
    [{ BACKEND_CREDENTIAL_HEADER: "X Api Key", BACKEND_CREDENTIAL_SECRET_ID: "b" }, "must be an HTTP header name"],
  ])("refuses %j", (extra, expected) => {
    expect(problems({ ...MINIMAL, ...extra }).join("\n")).toContain(expected);
  });
});

describe("loadConfigFromEnv: dry run", () => {
  it("reads POLICY_DRY_RUN as a boolean", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, POLICY_DRY_RUN: "true" }).policyDryRun).toBe(true);
    expect(loadConfigFromEnv({ ...MINIMAL, POLICY_DRY_RUN: "false" }).policyDryRun).toBe(false);
    expect(problems({ ...MINIMAL, POLICY_DRY_RUN: "yes" })).toEqual(["POLICY_DRY_RUN must be true or false"]);
  });
});

describe("loadConfigFromEnv: CORS and identity headers", () => {
  it("reads allowed origins and Header=claim pairs", () => {
    const config = loadConfigFromEnv({ ...MINIMAL, CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:6274", BACKEND_IDENTITY_HEADERS: "X-User-Id=sub, X-Roles=realm_access.roles" });
    expect(config.corsAllowedOrigins).toEqual(["https://app.example.com", "http://localhost:6274"]);
    expect(config.backends[0]?.identityHeaders).toEqual([
      { header: "X-User-Id", claim: "sub" },
      { header: "X-Roles", claim: "realm_access.roles" },
    ]);
  });

  it("reads allowed hosts, lower-cased; none configured means Host is not checked", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, ALLOWED_HOSTS: "MCP.example.com, localhost:9000, [::1]" }).allowedHosts).toEqual(["mcp.example.com", "localhost:9000", "[::1]"]);
    expect(loadConfigFromEnv(MINIMAL).allowedHosts).toBeUndefined();
  });

  it.each([
    [{ CORS_ALLOWED_ORIGINS: "https://app.example.com/path" }, "CORS_ALLOWED_ORIGINS"],
    [{ ALLOWED_HOSTS: "https://mcp.example.com" }, "ALLOWED_HOSTS.0 must list host names such as mcp.example.com or localhost:9000"],
    [{ ALLOWED_HOSTS: "mcp.example.com/mcp" }, "ALLOWED_HOSTS"],
    [{ BACKEND_IDENTITY_HEADERS: "X-User-Id" }, "BACKEND_IDENTITY_HEADERS"],
    [{ BACKEND_IDENTITY_HEADERS: "Mcp-Session-Id=sub" }, "BACKEND_IDENTITY_HEADERS"],
  ])("refuses %j", (extra, variable) => {
    expect(problems({ ...MINIMAL, ...extra }).join("\n")).toContain(variable);
  });
});

describe("loadConfigFromEnv: backend token", () => {
  it("signs with a key from SSM, for the backend's origin, five minutes, naming sub by default", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, BACKEND_TOKEN_HEADER: "X-Gateway-Token", BACKEND_TOKEN_KEY_SSM_PARAMETER: "/gw/key" }).backends[0]?.token).toEqual({
      header: "X-Gateway-Token",
      key: { kind: "ssm", name: "/gw/key" },
      audience: "http://localhost:8000",
      ttlSeconds: 300,
      claims: ["sub"],
    });
  });

  it.each([
    [{ BACKEND_TOKEN_HEADER: "X-T" }, "needs exactly one of"],
    [{ BACKEND_TOKEN_KEY_SECRET_ID: "k" }, "BACKEND_TOKEN_HEADER is required"],
    [{ BACKEND_TOKEN_HEADER: "X-T", BACKEND_TOKEN_KEY_SECRET_ID: "k", BACKEND_CREDENTIAL_HEADER: "x-t", BACKEND_CREDENTIAL_SECRET_ID: "c" }, "name the same header"],
    [{ BACKEND_TOKEN_HEADER: "X-T", BACKEND_TOKEN_KEY_SECRET_ID: "k", BACKEND_TOKEN_TTL_SECONDS: "5" }, "BACKEND_TOKEN_TTL_SECONDS"],
  ])("refuses %j", (extra, expected) => {
    expect(problems({ ...MINIMAL, ...extra }).join("\n")).toContain(expected);
  });
});

describe("loadConfigFromEnv: the front door's secret", () => {
  it("reads the header and where its value is kept, five minutes by default", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, EDGE_SECRET_HEADER: "X-Origin-Verify", EDGE_SECRET_SECRET_ID: "edge" }).edgeSecret).toEqual({
      header: "X-Origin-Verify",
      source: { kind: "secretsmanager", secretId: "edge" },
      cacheSeconds: 300,
    });
    expect(loadConfigFromEnv(MINIMAL).edgeSecret).toBeUndefined();
  });

  it.each([
    [{ EDGE_SECRET_HEADER: "X-Origin-Verify" }, "EDGE_SECRET_HEADER needs exactly one of"],
    [{ EDGE_SECRET_SECRET_ID: "edge" }, "EDGE_SECRET_HEADER is required"],
    [{ EDGE_SECRET_HEADER: "Host", EDGE_SECRET_SECRET_ID: "edge" }, "EDGE_SECRET_HEADER must not be a header the gateway manages"],
  ])("refuses %j", (extra, expected) => {
    expect(problems({ ...MINIMAL, ...extra }).join("\n")).toContain(expected);
  });
});

const issuersEnv = (entries: unknown[]): Env => ({ ...MINIMAL, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined, JWT_ISSUERS: JSON.stringify(entries) });
const entry = (extra: Record<string, unknown>) => ({ issuer: "https://idp.example.com", audience: "mcp-gateway", ...extra });

describe("loadConfigFromEnv: requireAtJwt", () => {
  it("is off by default, with or without a preset", () => {
    expect(loadConfigFromEnv(MINIMAL).issuers[0]?.requireAtJwt).toBe(false);
    for (const preset of Object.keys(PRESETS)) {
      expect([preset, loadConfigFromEnv({ ...MINIMAL, JWT_PRESET: preset }).issuers[0]?.requireAtJwt]).toEqual([preset, false]);
    }
  });

  it("is read from JWT_REQUIRE_AT_JWT, and overrides the preset's", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_REQUIRE_AT_JWT: "true" }).issuers[0]?.requireAtJwt).toBe(true);
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_REQUIRE_AT_JWT: "false" }).issuers[0]?.requireAtJwt).toBe(false);
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_PRESET: "auth0", JWT_REQUIRE_AT_JWT: "true" }).issuers[0]?.requireAtJwt).toBe(true);
  });

  it("refuses anything but true or false in JWT_REQUIRE_AT_JWT, naming the variable", () => {
    for (const value of ["yes", "1", "TRUE", " true"]) {
      expect(problems({ ...MINIMAL, JWT_REQUIRE_AT_JWT: value })).toEqual(["JWT_REQUIRE_AT_JWT must be true or false"]);
    }
  });

  it("is read per JWT_ISSUERS entry, as a boolean or its text", () => {
    const config = loadConfigFromEnv(
      issuersEnv([
        entry({ requireAtJwt: true }),
        entry({ issuer: "https://b.example.com", requireAtJwt: "true" }),
        entry({ issuer: "https://c.example.com", requireAtJwt: false, preset: "okta" }),
        entry({ issuer: "https://d.example.com" }),
      ]),
    );
    expect(config.issuers.map((i) => i.requireAtJwt)).toEqual([true, true, false, false]);
  });

  it("refuses another value in an entry, naming the entry and field", () => {
    expect(problems(issuersEnv([entry({}), entry({ issuer: "https://b.example.com", requireAtJwt: "on" })]))).toEqual([
      "JWT_ISSUERS[1].requireAtJwt must be true or false",
    ]);
    expect(problems(issuersEnv([entry({ requireAtJwt: 1 })]))).toEqual(["JWT_ISSUERS[0].requireAtJwt must be true or false"]);
  });
});

describe("loadConfigFromEnv: requireSub", () => {
  it("is on by default, with or without a preset (RFC 9068 makes sub required)", () => {
    expect(loadConfigFromEnv(MINIMAL).issuers[0]?.requireSub).toBe(true);
    for (const preset of Object.keys(PRESETS)) {
      expect([preset, loadConfigFromEnv({ ...MINIMAL, JWT_PRESET: preset }).issuers[0]?.requireSub]).toEqual([preset, true]);
    }
  });

  it("is read from JWT_REQUIRE_SUB", () => {
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_REQUIRE_SUB: "false" }).issuers[0]?.requireSub).toBe(false);
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_REQUIRE_SUB: "true" }).issuers[0]?.requireSub).toBe(true);
    expect(loadConfigFromEnv({ ...MINIMAL, JWT_PRESET: "keycloak", JWT_REQUIRE_SUB: "false" }).issuers[0]?.requireSub).toBe(false);
  });

  it("refuses anything but true or false in JWT_REQUIRE_SUB, naming the variable", () => {
    for (const value of ["no", "0", "FALSE", "off"]) {
      expect(problems({ ...MINIMAL, JWT_REQUIRE_SUB: value })).toEqual(["JWT_REQUIRE_SUB must be true or false"]);
    }
  });

  it("is read per JWT_ISSUERS entry, as a boolean or its text, on unless turned off", () => {
    const config = loadConfigFromEnv(
      issuersEnv([
        entry({ requireSub: false }),
        entry({ issuer: "https://b.example.com", requireSub: "false" }),
        entry({ issuer: "https://c.example.com", requireSub: true, preset: "cognito" }),
        entry({ issuer: "https://d.example.com" }),
      ]),
    );
    expect(config.issuers.map((i) => i.requireSub)).toEqual([false, false, true, true]);
  });

  it("refuses another value in an entry, naming the entry and field", () => {
    expect(problems(issuersEnv([entry({ requireSub: "no" })]))).toEqual(["JWT_ISSUERS[0].requireSub must be true or false"]);
    expect(problems(issuersEnv([entry({}), entry({ issuer: "https://b.example.com", requireSub: 0 })]))).toEqual([
      "JWT_ISSUERS[1].requireSub must be true or false",
    ]);
  });

  it("cannot be set beside JWT_ISSUERS", () => {
    expect(problems({ ...issuersEnv([entry({})]), JWT_REQUIRE_SUB: "false" })).toEqual([
      "JWT_ISSUERS and JWT_REQUIRE_SUB are both set; describe every issuer in JWT_ISSUERS",
    ]);
  });
});

describe("loadConfigFromEnv: the presets' access-token markers", () => {
  it("are the issuer's when it names a preset, and none otherwise", () => {
    for (const preset of Object.keys(PRESETS) as PresetName[]) {
      expect(loadConfigFromEnv({ ...MINIMAL, JWT_PRESET: preset }).issuers[0]?.accessTokenMarkers).toEqual(PRESETS[preset].accessTokenMarkers);
    }
    expect(loadConfigFromEnv(MINIMAL).issuers[0]?.accessTokenMarkers).toEqual([]);
  });
});
