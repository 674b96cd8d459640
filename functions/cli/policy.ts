/**
 * `mcp-sso-gateway policy <subcommand>`: policies as managed artefacts. Each subcommand is its own module under
 * cli/policy/, loaded only when used.
 */
import type { PolicySubcommand } from "./policy/command.js";
import { UsageError } from "./usage-error.js";

const SUBCOMMANDS: Record<string, () => Promise<{ default: PolicySubcommand }>> = {
  validate: () => import("./policy/validate.js"),
  push: () => import("./policy/push.js"),
  pull: () => import("./policy/pull.js"),
  diff: () => import("./policy/diff.js"),
  history: () => import("./policy/history.js"),
  rollback: () => import("./policy/rollback.js"),
  explain: () => import("./policy/explain.js"),
  test: () => import("./policy/test.js"),
  pin: () => import("./policy/pin.js"),
};

async function usage(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(SUBCOMMANDS).map(async ([name, load]) => `  ${name.padEnd(10)}${(await load()).default.summary}`),
  );
  return `Usage: mcp-sso-gateway policy <subcommand> [options]\n\nSubcommands:\n${lines.join("\n")}\n\nRun 'mcp-sso-gateway policy <subcommand> --help' for its options.`;
}

export async function policy(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return;
  }
  // No subcommand is a usage mistake, as no command is for `mcp-sso-gateway` itself: stderr, exit 2.
  if (name === undefined) throw new UsageError(`a policy subcommand is required

${await usage()}`);
  const load = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!load) throw new UsageError(`Unknown policy subcommand: ${name}\n\n${await usage()}`);
  process.exitCode = await (await load()).default.run(rest);
}
