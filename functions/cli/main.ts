/**
 * `mcp-sso-gateway <command>`: dispatches to one module per command. Help asked for goes to stdout (exit 0); mistakes
 * and failures go to stderr as one message without a stack trace (exit 2 for usage and configuration, 1 otherwise).
 */
import { ConfigError } from "../errors.js";
import { CommandFailure } from "./command-failure.js";
import { UsageError } from "./usage-error.js";

// Under Node.js 20 the AWS SDK prints a nine-line notice that its releases after January 2027 need Node.js 22, before
// the output of every command that reads SSM. AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is the SDK's documented
// way to turn off that notice alone (aws/aws-sdk-js-v3#7983); every other warning still shows, and a value the user
// set is kept.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const COMMANDS: Record<string, { summary: string; run: (args: string[]) => Promise<void> }> = {
  serve: { summary: "run the gateway locally (configured by environment variables, as the Lambda is)", run: async (a) => (await import("./serve.js")).serve(a) },
  token: { summary: "mint a demo token signed by the demo identity provider's key", run: async (a) => (await import("./token.js")).token(a) },
  policy: { summary: "validate, push, pull, diff, history, rollback, explain, test and pin authorization policies", run: async (a) => (await import("./policy.js")).policy(a) },
  doctor: { summary: "check a deployment as MCP clients meet it: sign-in discovery, CORS, and with a token MCP itself", run: async (a) => (await import("./doctor.js")).doctor(a) },
  demo: { summary: "run the enterprise SSO walkthrough: demo identity provider, echo MCP server and gateway", run: async (a) => (await import("./demo.js")).demo(a) },
};

const HELP_WORDS = ["help", "--help", "-h"];

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(8)}${summary}`);
  return `Usage: mcp-sso-gateway <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'mcp-sso-gateway <command> --help' for a command's options.`;
}

/** The command to run and its arguments; `help <command>` is that command's --help. */
function chosenCommand(argv: string[]): { run: (args: string[]) => Promise<void>; args: string[] } {
  const [name, ...args] = argv;
  if (name === undefined) throw new UsageError(`a command is required\n\n${usage()}`);
  if (HELP_WORDS.includes(name)) {
    const [topic, ...extra] = args;
    if (topic === undefined) return { run: async () => console.log(usage()), args: [] };
    if (extra.length > 0) throw new UsageError(`help takes one command name, not ${args.length}\n\n${usage()}`);
    return { run: commandNamed(topic).run, args: ["--help"] };
  }
  return { run: commandNamed(name).run, args };
}

function commandNamed(name: string): (typeof COMMANDS)[string] {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`Unknown command: ${name}\n\n${usage()}`);
  return command;
}

try {
  const { run, args } = chosenCommand(process.argv.slice(2));
  await run(args);
} catch (err) {
  // Configuration and usage problems are the user's to fix, and so is a failure a command reports: say what is wrong,
  // without a stack trace. Anything else is a bug, and its stack trace is wanted.
  if (err instanceof ConfigError || err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof CommandFailure) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
