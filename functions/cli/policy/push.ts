/** `mcp-sso-gateway policy push`: validates a document and writes it as a parameter under the policy path. */
import { parseArgs } from "node:util";
import type { PolicySubcommand } from "./command.js";
import { checkBeforeWriting, listDocuments, planWrite, refuseStackOwned, ssmClient, tierFor, write } from "./ssm-documents.js";
import { SSM_OPTIONS, SSM_OPTIONS_HELP, documentName, parseOrUsage, policyPath, positionals, readDocumentFile, refuseRepeatedOptions, reportFailures } from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy push FILE --path PATH [--name NAME] [--dry-run-check]

Validates FILE as the gateway would, merged with the other documents under PATH, and writes it to the SSM parameter
PATH/NAME as a new version (String; Standard tier up to 4096 bytes, Advanced up to 8192). Nothing is written when
the document, or the merged policy it would make, is invalid, nor when the newest version already holds exactly
FILE's content ('unchanged'). The gateway picks it up within its cache time.
${SSM_OPTIONS_HELP}
  --name NAME          the parameter under PATH (default: FILE's name without its extension)
  --dry-run-check      check everything and say what would be written, but write nothing`;

const OPTIONS = { ...SSM_OPTIONS, "dry-run-check": { type: "boolean" } } as const;

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [file] = positionals(given, ["FILE"], HELP) as [string];
  const path = policyPath(values.path, HELP);
  const name = documentName(values.name, file);
  const parameter = `${path}/${name}`;

  return reportFailures(1, async () => {
    refuseStackOwned(path, name);
    const text = await readDocumentFile(file);
    const tier = tierFor(text, file, path);
    const client = ssmClient(values.region);
    const merged = checkBeforeWriting(path, parameter, { origin: file, text }, await listDocuments(client, path));
    const plan = await planWrite(client, parameter, text, tier);
    if (plan.unchangedVersion !== undefined) {
      console.log(`unchanged: ${parameter} version ${plan.unchangedVersion} already holds ${file}; nothing written`);
      return 0;
    }
    if (values["dry-run-check"]) {
      console.log(`would push ${parameter} (${plan.tier}): ${file} is valid, and so is the merged policy of ${merged} document(s) under ${path}; nothing written`);
      return 0;
    }
    const version = await write(client, plan);
    console.log(`pushed ${parameter} version ${version} (${plan.tier})`);
    return 0;
  });
}

export default { summary: "validate a document and write it to the SSM policy path", run } satisfies PolicySubcommand;
