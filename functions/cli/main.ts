/** `mcp-sso-gateway <command>`: dispatches to one module per command. */
import { ConfigError } from "../errors.js";

const COMMANDS: Record<string, { summary: string; run: (args: string[]) => Promise<void> }> = {
  serve: { summary: "run the gateway locally (configured by environment variables, as the Lambda is)", run: async (a) => (await import("./serve.js")).serve(a) },
  token: { summary: "mint a demo token signed by the demo identity provider's key", run: async (a) => (await import("./token.js")).token(a) },
  policy: { summary: "validate, push, pull, diff, explain and test authorization policies", run: async (a) => (await import("./policy.js")).policy(a) },
  doctor: { summary: "check a deployment as MCP clients meet it: sign-in discovery, CORS, and with a token MCP itself", run: async (a) => (await import("./doctor.js")).doctor(a) },
  demo: { summary: "run the enterprise SSO walkthrough: demo identity provider, echo MCP server and gateway", run: async (a) => (await import("./demo.js")).demo(a) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(8)}${summary}`);
  return `Usage: mcp-sso-gateway <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'mcp-sso-gateway <command> --help' for a command's options.`;
}

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
if (!command) {
  console.error(name && !["help", "--help", "-h"].includes(name) ? `Unknown command: ${name}\n\n${usage()}` : usage());
  process.exit(name && !["help", "--help", "-h"].includes(name) ? 2 : 0);
}
try {
  await command.run(args);
} catch (err) {
  // Configuration and usage problems are the user's to fix: say what is wrong, without a stack trace.
  if (err instanceof ConfigError || (err instanceof Error && err.name === "UsageError")) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
