/** A command-line mistake: printed as is, exit code 2; and the checks of options that turn mistakes into one. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Runs an option parser (node:util parseArgs), turning its complaints into a UsageError followed by the help. */
export function parseOrUsage<T>(help: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}

/**
 * Refuses an option that takes one value given more than once (`--path /prod --path /staging`): parseArgs keeps the
 * last value and drops the others without a word. Options declared `multiple`, and flags, may repeat.
 */
export function refuseRepeatedOptions(args: readonly string[], options: NonNullable<ParseArgsConfig["options"]>, help: string): void {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    const option = token.kind === "option" ? options[token.name] : undefined;
    if (token.kind !== "option" || !option || option.type !== "string" || option.multiple) continue;
    given.set(token.name, [...(given.get(token.name) ?? []), token.value ?? ""]);
  }
  const repeated = [...given].find(([, values]) => values.length > 1);
  if (repeated) {
    const [name, values] = repeated;
    throw new UsageError(`--${name} is given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(", ")}); give it once\n\n${help}`);
  }
}
