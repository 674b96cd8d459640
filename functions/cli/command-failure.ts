/**
 * A command that could not do what it was asked, for a reason the user can act on (a file that cannot be read, an
 * invalid document, SSM refusing, a port already taken): printed as is, without a stack trace, exit code 1. A mistake
 * in the command line itself is a UsageError (exit code 2).
 */
export class CommandFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CommandFailure";
  }
}
