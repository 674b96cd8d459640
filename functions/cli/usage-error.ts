/** A command-line mistake: printed as is, exit code 2. */
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
