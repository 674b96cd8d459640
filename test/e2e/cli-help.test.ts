/**
 * Help and usage mistakes of every command, as a user meets them (the real CLI as a child process): help that was
 * asked for goes to stdout with exit code 0, so `mcp-sso-gateway serve --help | less` works; a mistake goes to stderr
 * with exit code 2 and nothing on stdout, without a stack trace.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun } from "../support/demo-process.js";

let dir: string;
const cli = (...args: string[]): Promise<CliRun> => runCli(args, { cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcp-sso-cli-help-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * @param quiet whether stderr must be empty. The demo's OpenID Provider library prints its own notice on Node.js
 *   below 22 when it is loaded, which is no help text; for the demo, stderr must only be free of the help.
 */
function expectHelp(run: CliRun, usage: string, quiet = true): void {
  if (quiet) expect(run.stderr).toBe("");
  else expect(run.stderr).not.toContain("Usage:");
  expect(run.code).toBe(0);
  expect(run.stdout.startsWith(`Usage: ${usage}`), run.stdout).toBe(true);
}

function expectMistake(run: CliRun, message: RegExp): void {
  expect(run.stdout).toBe("");
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

const POLICY_SUBCOMMANDS = ["validate", "push", "pull", "diff", "history", "rollback", "explain", "test", "pin"];

describe("help asked for: stdout, exit code 0", () => {
  it.each([["--help"], ["-h"], ["help"]])("the command list, with %s", async (flag) => {
    const run = await cli(flag);
    expectHelp(run, "mcp-sso-gateway <command> [options]");
    expect(run.stdout).toMatch(/^\s+serve\s/m);
    expect(run.stdout).toMatch(/^\s+policy\s/m);
    // The policy line names every subcommand, as `policy --help` lists them.
    const policyLine = /^\s+policy\s.*$/m.exec(run.stdout)?.[0] ?? "";
    for (const subcommand of POLICY_SUBCOMMANDS) expect(policyLine).toMatch(new RegExp(`\\b${subcommand}\\b`));
  });

  it.each([
    ["serve", "mcp-sso-gateway serve"],
    ["token", "mcp-sso-gateway token --sub SUBJECT"],
    ["policy", "mcp-sso-gateway policy <subcommand>"],
    ["doctor", "mcp-sso-gateway doctor URL"],
    ["demo", "mcp-sso-gateway demo"],
  ])("%s --help and -h", async (command, usage) => {
    expectHelp(await cli(command, "--help"), usage, command !== "demo");
    expectHelp(await cli(command, "-h"), usage, command !== "demo");
  });

  it.each(POLICY_SUBCOMMANDS)("policy %s --help", async (subcommand) => {
    expectHelp(await cli("policy", subcommand, "--help"), `mcp-sso-gateway policy ${subcommand}`);
  });

  it("help COMMAND is that command's --help", async () => {
    const help = await cli("help", "token");
    expectHelp(help, "mcp-sso-gateway token --sub SUBJECT");
    expect(help.stdout).toBe((await cli("token", "--help")).stdout);
  });
});

describe("mistakes: stderr, exit code 2", () => {
  it("no command at all: the command list, as the mistake it is", async () => {
    expectMistake(await cli(), /^a command is required\n\nUsage: mcp-sso-gateway <command>/);
  });

  it("policy without a subcommand: the subcommand list, as the mistake it is", async () => {
    expectMistake(await cli("policy"), /^a policy subcommand is required\n\nUsage: mcp-sso-gateway policy <subcommand>/);
  });

  it("an unknown command, or help for one", async () => {
    expectMistake(await cli("deploy"), /^Unknown command: deploy\n\nUsage: mcp-sso-gateway <command>/);
    expectMistake(await cli("help", "deploy"), /^Unknown command: deploy\n/);
  });

  it.each([
    [["serve", "--port", "9000"], /^serve takes no arguments \(settings are environment variables\)\n\nUsage: mcp-sso-gateway serve/],
    [["token", "--sub", "alice", "--bogus"], /^Unknown option '--bogus'/],
    [["doctor"], /^doctor needs the MCP endpoint's URL/],
    [["policy", "deploy"], /^Unknown policy subcommand: deploy/],
    [["policy", "pull", "--path", "/p", "--bogus"], /^Unknown option '--bogus'/],
    // parseArgs keeps the last of a repeated option and drops the others without a word.
    [["policy", "push", "main.yaml", "--path", "/prod", "--path=/staging"], /^--path is given 2 times \("\/prod", "\/staging"\); give it once\n\nUsage: /],
    [["policy", "rollback", "--path", "/p", "--name", "main", "--to", "1", "--to", "2"], /^--to is given 2 times \("1", "2"\); give it once/],
    [["policy", "history", "--path", "/p", "--name", "a", "--name", "b"], /^--name is given 2 times/],
    [["token", "--sub", "alice", "--sub", "mallory"], /^--sub is given 2 times \("alice", "mallory"\); give it once/],
    [["policy", "validate", "policies/walkthrough.yaml", "--claims", "sub", "--claims", "sub,roles"], /^--claims is given 2 times \("sub", "sub,roles"\); give it once\n\nUsage: mcp-sso-gateway policy validate/],
    [["policy", "explain", "policies/walkthrough.yaml", "--claims", "{}", "--tool", "echo", "--tool=add"], /^--tool is given 2 times \("echo", "add"\); give it once\n\nUsage: mcp-sso-gateway policy explain/],
    [["doctor", "http://127.0.0.1:9/mcp", "--timeout", "5", "--timeout", "1"], /^--timeout is given 2 times \("5", "1"\); give it once\n\nUsage: mcp-sso-gateway doctor/],
  ])("%j", async (args, message) => {
    expectMistake(await cli(...args), message);
  });
});
