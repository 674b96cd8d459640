/** `mcp-sso-gateway policy diff`: what a push of FILE would change in the stored document, as a unified diff. */
import { parseArgs } from "node:util";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import type { PolicySubcommand } from "./command.js";
import { getDocument, ssmClient } from "./ssm-documents.js";
import {
  CommandFailure,
  SSM_OPTIONS,
  SSM_OPTIONS_HELP,
  documentName,
  parseOrUsage,
  refuseRepeatedOptions,
  policyPath,
  positionals,
  readDocumentFile,
  reportFailures,
} from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy diff FILE --path PATH [--name NAME]

Shows, as a unified diff, how FILE differs from the document stored as PATH/NAME (the stored version is the old
side). Exits 0 when they are identical, 1 when they differ, 2 on errors, as diff(1) does.
${SSM_OPTIONS_HELP}
  --name NAME          the parameter under PATH (default: FILE's name without its extension)`;

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: SSM_OPTIONS }));
  refuseRepeatedOptions(args, SSM_OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [file] = positionals(given, ["FILE"], HELP) as [string];
  const path = policyPath(values.path, HELP);
  const parameter = `${path}/${documentName(values.name, file)}`;

  // diff(1)'s convention: trouble is 2, so that 1 always means "they differ".
  return reportFailures(2, async () => {
    const text = await readDocumentFile(file);
    const stored = await getDocument(ssmClient(values.region), parameter);
    if (!stored) throw new CommandFailure(`no policy document ${parameter} to compare ${file} with`);
    if (stored.text === text) return 0;
    const patch = createTwoFilesPatch(parameter, file, stored.text, text, `version ${stored.version}`, undefined, {
      headerOptions: FILE_HEADERS_ONLY,
    });
    process.stdout.write(patch);
    return 1;
  });
}

export default { summary: "show how a document file differs from the one stored in SSM", run } satisfies PolicySubcommand;
