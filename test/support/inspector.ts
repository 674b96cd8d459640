/** Runs the MCP Inspector's CLI (on the Node 22 it requires, from test/tools) as a user would. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const TOOLS = fileURLToPath(new URL("../tools/node_modules/", import.meta.url));
const NODE22 = `${TOOLS}.bin/node`;
const INSPECTOR = `${TOOLS}@modelcontextprotocol/inspector/clients/launcher/build/index.js`;

export interface InspectorRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runInspectorCli(url: string, args: string[]): Promise<InspectorRun> {
  return new Promise((resolve) => {
    execFile(
      NODE22,
      [INSPECTOR, "--cli", url, "--transport", "http", ...args],
      { timeout: 60_000, env: { ...process.env, CI: "true" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function parseJsonOutput(run: InspectorRun): unknown {
  return JSON.parse(run.stdout);
}
