/** What every `mcp-sso-gateway policy <subcommand>` module exports. */
export interface PolicySubcommand {
  /** One line for the command list. */
  summary: string;
  /** Runs with the arguments after the subcommand name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
