/** `mcp-sso-gateway policy history`: the versions SSM keeps of one document, newest first. */
import { parseArgs } from "node:util";
import type { ParameterHistory } from "@aws-sdk/client-ssm";
import type { PolicySubcommand } from "./command.js";
import { parameterHistory, ssmClient } from "./ssm-documents.js";
import { SSM_OPTIONS, SSM_OPTIONS_HELP, documentName, parseOrUsage, policyPath, positionals, reportFailures } from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy history --path PATH --name NAME

Lists the versions of PATH/NAME that SSM keeps (the last 100), newest first: version, when and by whom it was
written, and the document's first line. 'policy rollback' brings back the content of any of them.
${SSM_OPTIONS_HELP}
  --name NAME          the parameter under PATH`;

const SUMMARY_LENGTH = 60;

/** The first non-blank line, shortened: enough to tell versions apart at a glance. */
export function summarize(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "(empty)";
  return line.length > SUMMARY_LENGTH ? `${line.slice(0, SUMMARY_LENGTH - 1)}…` : line;
}

function row(version: ParameterHistory): string[] {
  const date = version.LastModifiedDate?.toISOString().replace(/\.\d{3}Z$/, "Z") ?? "?";
  return [String(version.Version ?? "?"), date, version.LastModifiedUser ?? "?", summarize(version.Value ?? "")];
}

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: SSM_OPTIONS }));
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  positionals(given, [], HELP);
  const path = policyPath(values.path, HELP);
  const parameter = `${path}/${documentName(values.name)}`;

  return reportFailures(1, async () => {
    const versions = await parameterHistory(ssmClient(values.region), parameter);
    const rows = [["VERSION", "DATE", "USER", "FIRST LINE"], ...versions.reverse().map(row)];
    // Columns sized to their widest cell; the last one is left ragged.
    const widths = [0, 1, 2].map((column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0)));
    console.log(`${parameter}\n${rows.map((cells) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join("  ")).join("\n")}`);
    return 0;
  });
}

export default { summary: "list the versions of a document stored in SSM, newest first", run } satisfies PolicySubcommand;
