/** `mcp-sso-gateway policy history`: the versions SSM keeps of one document, newest first. */
import { parseArgs } from "node:util";
import type { ParameterHistory } from "@aws-sdk/client-ssm";
import type { PolicySubcommand } from "./command.js";
import { parameterHistory, ssmClient } from "./ssm-documents.js";
import { describeChange, describeFirst } from "./version-changes.js";
import { SSM_OPTIONS, SSM_OPTIONS_HELP, documentName, parseOrUsage, policyPath, positionals, refuseRepeatedOptions, reportFailures } from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy history --path PATH --name NAME

Lists the versions of PATH/NAME that SSM keeps (the last 100), newest first: version, when and by whom it was
written, and what it changed from the version before it (lines added and removed; grants, rules and settings added,
removed or changed). 'policy rollback' brings back the content of any of them.
${SSM_OPTIONS_HELP}
  --name NAME          the parameter under PATH`;

/** One row per version, newest first; each says what it changed from the version before it. */
function rows(versions: readonly ParameterHistory[]): string[][] {
  return versions
    .map((version, i) => {
      const date = version.LastModifiedDate?.toISOString().replace(/\.\d{3}Z$/, "Z") ?? "?";
      const text = version.Value ?? "";
      const previous = versions[i - 1];
      const change = previous === undefined ? describeFirst(version.Version ?? 0, text) : describeChange(previous.Value ?? "", text);
      return [String(version.Version ?? "?"), date, version.LastModifiedUser ?? "?", change];
    })
    .reverse();
}

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: SSM_OPTIONS }));
  refuseRepeatedOptions(args, SSM_OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  positionals(given, [], HELP);
  const path = policyPath(values.path, HELP);
  const parameter = `${path}/${documentName(values.name)}`;

  return reportFailures(1, async () => {
    const versions = await parameterHistory(ssmClient(values.region), parameter);
    const table = [["VERSION", "DATE", "USER", "CHANGE"], ...rows(versions)];
    // Columns sized to their widest cell; the last one is left ragged.
    const widths = [0, 1, 2].map((column) => Math.max(...table.map((cells) => cells[column]?.length ?? 0)));
    console.log(`${parameter}\n${table.map((cells) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join("  ")).join("\n")}`);
    return 0;
  });
}

export default { summary: "list the versions of a document stored in SSM, newest first", run } satisfies PolicySubcommand;
