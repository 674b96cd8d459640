/**
 * Starts what the tests need once per run: an SSM- and Secrets Manager-compatible endpoint (moto's server) reached
 * through the SDK's standard AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_SECRETS_MANAGER settings, and the test tools
 * (the MCP Inspector and Node 22) in test/tools.
 * When AWS_ENDPOINT_URL_SSM is already set (CI starts moto_server itself), that endpoint is used as is.
 * Fake credentials and a region are set so the SDK never looks for real ones, and nothing can reach AWS.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { freePort } from "./ports.js";

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let moto: ChildProcess | undefined;

export async function setup(): Promise<void> {
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "testing";
  process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
  if (!process.env.AWS_ENDPOINT_URL_SSM) {
    const port = await freePort();
    moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    moto.on("error", (err) => {
      throw new Error(`moto_server could not be started (pip install "moto[server]"): ${err.message}`);
    });
    process.env.AWS_ENDPOINT_URL_SSM = `http://127.0.0.1:${port}`;
    await waitForHttp(process.env.AWS_ENDPOINT_URL_SSM, 30_000);
  }
  // moto's server answers every service on one port: Secrets Manager too (backend credentials).
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ??= process.env.AWS_ENDPOINT_URL_SSM;
  execFileSync("npm", ["install", "--prefix", "test/tools", "--no-audit", "--no-fund", "--loglevel=error", "--silent"], { stdio: "inherit" });
}

export async function teardown(): Promise<void> {
  moto?.kill();
}
