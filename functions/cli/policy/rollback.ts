/**
 * `mcp-sso-gateway policy rollback`: SSM cannot revert a parameter in place, so the content of an old version is
 * validated like a push and written as a new version (the history keeps every step).
 */
import { parseArgs } from "node:util";
import type { PolicySubcommand } from "./command.js";
import { checkBeforeWriting, listDocuments, parameterHistory, planWrite, refuseStackOwned, ssmClient, tierFor, write } from "./ssm-documents.js";
import { CommandFailure, SSM_OPTIONS, SSM_OPTIONS_HELP, documentName, parseOrUsage, policyPath, positionals, refuseRepeatedOptions, reportFailures } from "./ssm-options.js";
import { UsageError } from "../usage-error.js";

const HELP = `Usage: mcp-sso-gateway policy rollback --path PATH --name NAME --to VERSION

Writes the content of version VERSION of PATH/NAME as its newest version, after validating it with the other
documents under PATH as 'policy push' does ('policy history' lists the versions). Nothing is written when the newest
version already holds that content ('unchanged').
${SSM_OPTIONS_HELP}
  --name NAME          the parameter under PATH
  --to VERSION         the version whose content to restore`;

const OPTIONS = { ...SSM_OPTIONS, to: { type: "string" } } as const;

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  positionals(given, [], HELP);
  const path = policyPath(values.path, HELP);
  const name = documentName(values.name);
  if (values.to === undefined) throw new UsageError(`--to is required\n\n${HELP}`);
  if (!/^[1-9]\d*$/.test(values.to)) throw new UsageError(`--to takes a version number, not ${JSON.stringify(values.to)}`);
  const target = Number(values.to);
  const parameter = `${path}/${name}`;

  return reportFailures(1, async () => {
    refuseStackOwned(path, name);
    const client = ssmClient(values.region);
    const versions = await parameterHistory(client, parameter);
    const old = versions.find((v) => v.Version === target);
    if (!old || old.Value === undefined) {
      const kept = versions.length ? `it has versions ${versions[0]?.Version} to ${versions.at(-1)?.Version}; SSM keeps the last 100` : "it has none";
      throw new CommandFailure(`no version ${target} of ${parameter} (${kept})`);
    }
    if (old.Type === "SecureString") {
      throw new CommandFailure(`refused, nothing written: version ${target} of ${parameter} is a SecureString, and this command writes String parameters`);
    }
    const origin = `${parameter} version ${target}`;
    const tier = tierFor(old.Value, origin, path);
    checkBeforeWriting(path, parameter, { origin, text: old.Value }, await listDocuments(client, path));
    const plan = await planWrite(client, parameter, old.Value, tier);
    if (plan.unchangedVersion !== undefined) {
      console.log(`unchanged: ${parameter} version ${plan.unchangedVersion} already holds the content of version ${target}; nothing written`);
      return 0;
    }
    const version = await write(client, plan);
    console.log(`rolled back ${parameter} to the content of version ${target} as version ${version}`);
    return 0;
  });
}

export default { summary: "write the content of an earlier version of a document as its newest", run } satisfies PolicySubcommand;
