/**
 * Runs the MCP Inspector's CLI (on the Node 22 it requires, from test/tools) through an interactive OAuth sign-in, as
 * a user in a terminal meets it: it prints "Please navigate to: <authorization URL>", tries to open a browser, and
 * waits on its loopback callback listener for the code. Here no browser opens (BROWSER is a command that does
 * nothing); the test visits the URL itself, and the sign-in ends at the Inspector's listener. Its OAuth store lives
 * in a directory of the test's own (HOME), so the user's is never read or written.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const TOOLS = fileURLToPath(new URL("../tools/node_modules/", import.meta.url));
const NODE22 = `${TOOLS}.bin/node`;
const INSPECTOR = `${TOOLS}@modelcontextprotocol/inspector/clients/launcher/build/index.js`;
const NAVIGATE = /Please navigate to: (\S+)/;

export interface InspectorSignIn {
  /** The authorization URL the Inspector asks the user to open. */
  authorizationUrl(): Promise<URL>;
  /** Resolves once the Inspector has exited. */
  result(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Ends the Inspector if it still runs, and deletes its home. */
  remove(): Promise<void>;
}

/**
 * Starts `inspector --cli <url> --transport http <args>` with its OAuth callback at `callbackUrl` (loopback), forced
 * to sign in interactively without a terminal (MCP_AUTO_OPEN_ENABLED=true, the Inspector's switch for it).
 */
export async function startInspectorSignIn(url: string, args: string[], callbackUrl: string, timeoutMs = 60_000): Promise<InspectorSignIn> {
  const home = await mkdtemp(join(tmpdir(), "inspector-home-"));
  const child = spawn(NODE22, [INSPECTOR, "--cli", url, "--transport", "http", "--callback-url", callbackUrl, ...args], {
    env: { ...process.env, HOME: home, MCP_AUTO_OPEN_ENABLED: "true", BROWSER: "true", MCP_INSPECTOR_SECRET_STORE: "memory", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  void exited.then(() => clearTimeout(timer));

  return {
    async authorizationUrl() {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = NAVIGATE.exec(stderr)?.[1];
        if (found) return new URL(found);
        if (child.exitCode !== null) throw new Error(`the Inspector exited (${child.exitCode}) without asking to sign in\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`the Inspector did not ask to sign in within ${timeoutMs} ms\nstderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async result() {
      const code = await exited;
      return { code, stdout, stderr };
    },
    async remove() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
}
