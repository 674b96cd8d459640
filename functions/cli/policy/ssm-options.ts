/**
 * What push, pull, diff, history and rollback share on the command line: the options naming a policy path and a
 * document, their checks, and how a failure that is not a usage mistake is reported (one line, no stack trace).
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { CommandFailure } from "../command-failure.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "../usage-error.js";

export { CommandFailure, parseOrUsage, refuseRepeatedOptions };

/** Options every SSM subcommand takes; spread into each one's parseArgs options. */
export const SSM_OPTIONS = {
  path: { type: "string" },
  name: { type: "string" },
  region: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const SSM_OPTIONS_HELP = `  --path PATH          the policy path in SSM Parameter Store (the gateway's POLICY_SSM_PATH, the stack's
                       PolicySsmPath output), e.g. /mcp-sso-gateway/McpSsoGateway/policies
  --region REGION      AWS region (default: the SDK's usual resolution, AWS_REGION, the profile...)`;


/** Runs a subcommand body, turning a CommandFailure into its message on stderr and `failureCode`. */
export async function reportFailures(failureCode: number, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof CommandFailure)) throw err;
    console.error(err.message);
    return failureCode;
  }
}

// SSM's own rule for names: segments of letters, digits and . - _ separated by slashes.
const SEGMENTS = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** The policy path without a trailing slash; must be absolute, as GetParametersByPath requires. */
export function policyPath(raw: string | undefined, help: string): string {
  if (raw === undefined) throw new UsageError(`--path is required\n\n${help}`);
  const path = raw.replace(/\/+$/, "");
  if (!path.startsWith("/") || !SEGMENTS.test(path.slice(1))) {
    throw new UsageError(`--path must be an SSM path such as /mcp-sso-gateway/McpSsoGateway/policies, not ${JSON.stringify(raw)}`);
  }
  return path;
}

/** A document's name under the path: --name, or else the file's base name without its extension. */
export function documentName(raw: string | undefined, file?: string): string {
  const name = raw ?? (file === undefined ? undefined : basename(file, extname(file)));
  if (name === undefined) throw new UsageError("--name is required");
  if (!SEGMENTS.test(name)) {
    const from = raw === undefined ? ` (taken from the file name ${file}); give one with --name` : "";
    throw new UsageError(`a document name may hold only letters, digits, . - _ and / between parts, not ${JSON.stringify(name)}${from}`);
  }
  return name;
}

/** Exactly `count` positional arguments, named in the message when missing. */
export function positionals(values: string[], names: readonly string[], help: string): string[] {
  if (values.length !== names.length) {
    const expected = names.length === 0 ? "no file arguments" : names.join(" ");
    throw new UsageError(`expected ${expected}, got ${values.length === 0 ? "none" : values.map((v) => JSON.stringify(v)).join(" ")}\n\n${help}`);
  }
  return values;
}

/** A document file's text; a file that cannot be read is a failure, not a crash. */
export async function readDocumentFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new CommandFailure(`could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
}
