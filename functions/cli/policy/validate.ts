/**
 * `mcp-sso-gateway policy validate FILE...`: schema, CEL compilation and lint, exactly as the gateway would load the
 * documents (several files are merged, as the documents under one SSM path are). Exit 0 only when valid.
 */
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { PolicyError } from "../../errors.js";
import { lintPolicy } from "../../policy/lint.js";
import { readPolicyFiles, validatePolicyTexts } from "../../policy/validate-documents.js";
import { atPosition } from "../../policy/yaml-position.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "../usage-error.js";
import type { PolicySubcommand } from "./command.js";
import { toolFacts } from "./tool-lists.js";

const HELP = `Usage: mcp-sso-gateway policy validate FILE... [options]

Checks policy documents as the gateway loads them (schema, CEL compilation and type check against the variables the
gateway provides; several files are merged), then lints: rules that can never match, grants that can match nothing
(a template with {}, a resource grant that is no URI or whose URIs are never allowed, names or roles with stray
whitespace or commas), shadowed grants and rules, and, given the facts below, claims the tokens do not carry,
patterns that match no tool, tools no rule could allow and tool pins that match no tool (server by server, given
each server's tools). A malformed pin digest is invalid. Each problem names its file, place, line and column.
Exit code 0 when valid (1 when not).
  --claims A,B,...     claim names your tokens carry (or --token with a sample token; it is only decoded)
  --token JWT          a sample token whose claim names are used
  --roles-claim C      the claim roles are read from (default roles)
  --tools LIST|FILE    the backend's tools: names, comma-separated, or a JSON file (a tools/list result or a list);
                       or each server's: a JSON file mapping server names to those, such as
                       { "github": [{ "name": "search_code" }], "jira": { "tools": [...] } }, to check grants and
                       tools server by server, and that every servers.NAME section names one of them
  --strict             also exit 1 when lint finds anything`;

function claimNames(values: { claims?: string; token?: string }): string[] | undefined {
  if (values.token) {
    try {
      return Object.keys(decodeJwt(values.token));
    } catch (err) {
      throw new UsageError(`--token is not a JWT: ${(err as Error).message}`);
    }
  }
  return values.claims?.split(",").map((c) => c.trim()).filter(Boolean);
}

const OPTIONS = {
  claims: { type: "string" },
  token: { type: "string" },
  "roles-claim": { type: "string" },
  tools: { type: "string" },
  strict: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function run(args: string[]): Promise<number> {
  const parsed = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  const { values, positionals: files } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (files.length === 0) throw new UsageError(`policy validate needs at least one FILE\n\n${HELP}`);
  let validated;
  try {
    validated = validatePolicyTexts(await readPolicyFiles(files));
  } catch (err) {
    if (!(err instanceof PolicyError) && !(err instanceof Error && "code" in err)) throw err;
    console.error(`invalid: ${(err as Error).message}`);
    return 1;
  }
  const findings = lintPolicy(validated.documents, {
    claims: claimNames(values),
    rolesClaim: values["roles-claim"],
    ...(values.tools ? await toolFacts(values.tools) : {}),
  });
  for (const finding of findings) console.log(`warning: ${finding.origin} ${finding.message}${atPosition(finding.position)}`);
  const rules = (validated.policy.withDryRun ?? validated.policy).rules.length;
  console.log(`valid: ${files.join(", ")} (${rules} rule${rules === 1 ? "" : "s"}, ${findings.length} warning${findings.length === 1 ? "" : "s"})`);
  return values.strict && findings.length > 0 ? 1 : 0;
}

const validate: PolicySubcommand = { summary: "check documents as the gateway loads them, and lint them", run };
export default validate;
