/** `mcp-sso-gateway policy pull`: prints the documents stored under the policy path, or one of them. */
import { parseArgs } from "node:util";
import type { PolicySubcommand } from "./command.js";
import { getDocument, listDocuments, ssmClient } from "./ssm-documents.js";
import { CommandFailure, SSM_OPTIONS, SSM_OPTIONS_HELP, documentName, parseOrUsage, policyPath, positionals, refuseRepeatedOptions, reportFailures } from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy pull --path PATH [--name NAME]

Prints the document stored as PATH/NAME exactly as stored (so 'pull --name main > main.yaml' round-trips), or every
document under PATH, in the order the gateway merges them, each after a '# <parameter> (version N)' line (one
document too, so the output always says where it came from).
${SSM_OPTIONS_HELP}
  --name NAME          only this document`;

const withNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: SSM_OPTIONS }));
  refuseRepeatedOptions(args, SSM_OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  positionals(given, [], HELP);
  const path = policyPath(values.path, HELP);
  const name = values.name === undefined ? undefined : documentName(values.name);

  return reportFailures(1, async () => {
    const client = ssmClient(values.region);
    if (name !== undefined) {
      const document = await getDocument(client, `${path}/${name}`);
      if (!document) throw new CommandFailure(`no policy document ${path}/${name}`);
      process.stdout.write(document.text);
      return 0;
    }
    const documents = await listDocuments(client, path);
    if (documents.length === 0) throw new CommandFailure(`no policy documents under ${path}`);
    process.stdout.write(documents.map((d) => `# ${d.name} (version ${d.version})\n${withNewline(d.text)}`).join("\n"));
    return 0;
  });
}

export default { summary: "print the documents stored under the SSM policy path", run } satisfies PolicySubcommand;
