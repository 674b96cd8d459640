/**
 * What every doctor test stands its deployment on: an identity provider with OpenID discovery and a token endpoint
 * (oidc-provider.ts, Keycloak-style issuer path), the paged-tools backend behind a policy giving the reader role its
 * reports, the gateway settings a correct deployment has (issuer, audience, keys, authorization server, the MCP
 * Inspector's origin for CORS), a reader's token in a file; and `mcp-sso-gateway doctor` run as a user runs it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, runCli, type CliRun } from "./demo-process.js";
import { startOidcProvider, type OidcProvider } from "./oidc-provider.js";
import { PAGED_TOOLS_POLICY, startPagedToolsBackend, type PagedToolsBackend } from "./paged-tools-backend.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The browser origin doctor checks CORS for by default. */
export const INSPECTOR_ORIGIN = "http://localhost:6274";

export interface DoctorStage {
  idp: OidcProvider;
  backend: PagedToolsBackend;
  /** A reader's access token, and the file it is written to. */
  token: string;
  tokenFile: string;
  /** A folder of this stage's own, removed by close(). */
  scratch: string;
  /** The gateway settings of a correct deployment in front of the backend, plus `extra`. */
  settings(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startDoctorStage(): Promise<DoctorStage> {
  const [idp, backend, scratch] = await Promise.all([
    startOidcProvider({ issuerPath: "/realms/acme" }),
    startPagedToolsBackend(),
    mkdtemp(join(tmpdir(), "doctor-stage-")),
  ]);
  const policyFile = join(scratch, "policy.yaml");
  const tokenFile = join(scratch, "reader.token");
  const token = await idp.token({ roles: ["reader"] });
  await Promise.all([writeFile(policyFile, PAGED_TOOLS_POLICY), writeFile(tokenFile, `${token}\n`)]);
  return {
    idp,
    backend,
    token,
    tokenFile,
    scratch,
    settings: (extra = {}) => ({
      MCP_BACKEND_URL: backend.url,
      POLICY_FILE: policyFile,
      JWT_ISSUER: idp.issuer,
      JWT_AUDIENCE: "mcp-gateway",
      JWKS_URI: idp.jwksUri,
      AUTHORIZATION_SERVERS: idp.issuer,
      CORS_ALLOWED_ORIGINS: INSPECTOR_ORIGIN,
      ...extra,
    }),
    async close() {
      await Promise.all([idp.close(), backend.close()]);
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** `mcp-sso-gateway doctor ARGS...` as a child process of bin/mcp-sso-gateway.js, run to completion. */
export function runDoctor(...args: string[]): Promise<CliRun> {
  return runCli(["doctor", ...args], { cwd: ROOT, env: cleanEnv() });
}

/** The report's line for a check (`ok   challenge: ...`), found by the check's name; undefined when there is none. */
export function lineOf(run: CliRun, check: string): string | undefined {
  return run.stdout.split("\n").find((line) => line.slice(5).startsWith(`${check}:`));
}

/** Every line of the report for checks whose name starts with `prefix`. */
export function linesOf(run: CliRun, prefix: string): string[] {
  return run.stdout.split("\n").filter((line) => line.slice(5).startsWith(prefix));
}
