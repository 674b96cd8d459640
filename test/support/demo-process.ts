/**
 * Runs the real `mcp-sso-gateway` command (bin/mcp-sso-gateway.js, what `npm start` runs) as a child process, as a
 * user would: in its own working directory, with its output collected for assertions.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/mcp-sso-gateway.js", import.meta.url));

/** The environment of this process without the gateway's own settings, so a child sees only what a test gives it. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(MCP_|JWT_|JWKS_|POLICY_|ROLES_CLAIM|PUBLIC_URL|AUTHORIZATION_SERVERS|MAX_BODY_BYTES|BACKEND_TIMEOUT_MS|PORT$|ECHO_PORT$|HOST$|POWERTOOLS_|LOG_LEVEL)/.test(name)) {
      delete env[name];
    }
  }
  return { ...env, ...extra };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface DemoProcess {
  /** The gateway's MCP endpoint as the demo printed it, e.g. `http://localhost:41234/mcp`. */
  url: string;
  /** The multi-server gateway's aggregated endpoint as the demo printed it (its servers at `<multiUrl>/<name>`). */
  multiUrl: string;
  /** The demo's working directory (tokens and `.demo/signing-key.json` are written there). */
  cwd: string;
  stdout(): string;
  stderr(): string;
  /** Reads a token file the demo wrote (`jsmith.token`, `boss.token`). */
  token(file: string): Promise<string>;
  /** Resolves once `predicate` holds for the output so far (stdout then stderr), or rejects after `timeoutMs`. */
  waitForOutput(predicate: (output: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code once the process has exited. */
  stop(): Promise<number | null>;
  /** Stops the demo and deletes its working directory. */
  remove(): Promise<void>;
}

export async function startDemo(): Promise<DemoProcess> {
  const cwd = await mkdtemp(join(tmpdir(), "mcp-sso-demo-"));
  const child: ChildProcess = spawn(process.execPath, [BIN, "demo"], {
    cwd,
    env: cleanEnv({ PORT: "0", ECHO_PORT: "0", MULTI_PORT: "0", NOTES_PORT: "0" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  async function waitForOutput(predicate: (output: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(stdout + stderr)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`demo exited (${child.exitCode ?? child.signalCode})\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`demo output did not match within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return stdout + stderr;
  }

  const GATEWAY_LINE = /^\s+gateway\s+(http:\/\/localhost:\d+\/mcp)\s/m;
  const url = await waitForOutput((output) => GATEWAY_LINE.test(output), 60_000)
    .then(() => GATEWAY_LINE.exec(stdout)?.[1])
    .catch(async (err: unknown) => {
      child.kill("SIGTERM");
      await exited;
      throw err;
    });
  const multiUrl = /^\s+gateway\s+(http:\/\/localhost:\d+\/mcp)\s+\(echo and notes together/m.exec(stdout)?.[1];
  if (!url || !multiUrl) {
    child.kill("SIGTERM");
    throw new Error(`the gateway URLs are not on the demo's stdout:\n${stdout}`);
  }

  async function stop(): Promise<number | null> {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  }

  return {
    url,
    multiUrl,
    cwd,
    stdout: () => stdout,
    stderr: () => stderr,
    token: async (file) => (await readFile(join(cwd, file), "utf8")).trim(),
    waitForOutput,
    stop,
    async remove() {
      await stop();
      await rm(cwd, { recursive: true, force: true });
    },
  };
}

/** The JSON lines of some output whose `reason` is `reason` (access-log lines are one JSON object per line). */
export function logLinesWithReason(output: string, reason: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.reason === reason);
}
