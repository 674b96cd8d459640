/** `mcp-sso-gateway policy explain`: what the policy decides for one caller and one item, and which rule decided. */
import { parseArgs } from "node:util";
import { decide } from "../../policy/decide.js";
import type { ItemKind } from "../../policy/types.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "../usage-error.js";
import type { PolicySubcommand } from "./command.js";
import {
  DEFAULT_ROLES_CLAIM,
  claimsFromToken,
  describeIdentity,
  describeItem,
  identityFrom,
  parseJsonObject,
  policyItem,
  resourceTemplateItem,
  serverName,
} from "./identity-input.js";
import { describeDecision, loadPolicy, reportingLoadErrors, type PolicyLocation } from "./policy-input.js";

const HELP = `Usage: mcp-sso-gateway policy explain (FILE... | --path PATH) (--token JWT | --claims JSON)
                                      (--tool NAME [--args JSON] | --prompt NAME | --resource URI
                                       | --resource-template URI_TEMPLATE) [--server NAME] [options]

Prints what the policy decides for one caller and one item, and the rule that decided:
  ALLOW tool echo (listing) for sub=pointy-haired-boss roles=[admin]: allowed by policies/walkthrough.yaml rules[0]
  ALLOW tool search_code on server github (listing) for sub=jsmith roles=[dev]: allowed by policy.yaml servers.github.tools.search_*
Exit code 0 when allowed, 1 when denied, 2 when the command or the policy is wrong. When some documents are
marked dryRun (not enforced), a second line gives the decision with them enforced too; the exit code follows the
decision in force.

Policy (validated and compiled exactly as the gateway does):
  FILE...              policy documents, merged in the order given
  --path PATH          every document under this SSM parameter path (standard AWS credentials and region;
                       AWS_ENDPOINT_URL_SSM points it at another endpoint)
  --region REGION      AWS region for --path (default: the SDK's usual resolution, AWS_REGION, the profile...)
Caller:
  --token JWT          the token's claims. The token is DECODED WITHOUT VERIFICATION (no signature, issuer,
                       audience or expiry check): this is an offline admin tool that answers "what would the policy
                       decide for these claims"; the gateway itself accepts only verified tokens.
  --claims JSON        the claims as a JSON object, e.g. '{"sub": "jsmith", "roles": ["admin"]}'
  --roles-claim NAME   the claim holding the roles, as the gateway's ROLES_CLAIM (default ${DEFAULT_ROLES_CLAIM})
Item:
  --tool NAME          a tool; judged as listing (could some arguments be allowed) unless --args is given
  --args JSON          judge a call of the tool with these arguments (a JSON object)
  --list               judge the tool as listing (the default without --args)
  --prompt NAME        a prompt
  --resource URI       a resource, by URI, judged under every reading a backend may make of it (resources/read)
  --resource-template URI_TEMPLATE
                       a resource template, by its uriTemplate, judged as written, as resources/templates/list
                       and completion/complete judge it (e.g. 'demo://resource/dynamic/text/{resourceId}')
  --server NAME        the server the item belongs to, as the gateway names it (its own name for the item goes
                       in --tool, --prompt or --resource): the grants under servers.NAME apply to it, and rules
                       read NAME as mcp.<kind>.target. Without it the item is of no server: only top-level grants,
                       and rules that do not need the target, can allow it`;

interface ExplainRequest {
  location: PolicyLocation;
  claims: Record<string, unknown>;
  rolesClaim: string;
  kind: ItemKind;
  name: string;
  args: Record<string, unknown> | undefined;
  /** The resource is a template (--resource-template): judged as written, not as a URI. */
  template: boolean;
  /** The server the item belongs to (--server), or undefined for an item of no server. */
  server: string | undefined;
}

/** An option given with a blank value is a mistake, not "absent". */
function nonEmpty(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`${option} must not be empty`);
  return value;
}

const OPTIONS = {
  path: { type: "string" },
  region: { type: "string" },
  token: { type: "string" },
  claims: { type: "string" },
  "roles-claim": { type: "string", default: DEFAULT_ROLES_CLAIM },
  tool: { type: "string" },
  args: { type: "string" },
  list: { type: "boolean" },
  prompt: { type: "string" },
  resource: { type: "string" },
  "resource-template": { type: "string" },
  server: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses the command line; undefined means --help was printed. */
export function parseExplainArgs(args: string[]): ExplainRequest | undefined {
  const parsed = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  const { values, positionals: files } = parsed;
  if (values.help) {
    console.log(HELP);
    return undefined;
  }

  // The gateway's POLICY_SSM_PATH may be written with a trailing slash; the parameters under it are the same.
  const path = nonEmpty(values.path, "--path")?.replace(/(.)\/+$/, "$1");
  const region = nonEmpty(values.region, "--region");
  if (region !== undefined && path === undefined) throw new UsageError("--region goes with --path");
  if (files.length > 0 && path !== undefined) throw new UsageError("give policy FILEs or --path, not both");
  if (files.length === 0 && path === undefined) throw new UsageError(`give the policy: one or more FILEs, or --path PATH\n\n${HELP}`);

  const token = nonEmpty(values.token, "--token");
  const claimsJson = nonEmpty(values.claims, "--claims");
  if (token !== undefined && claimsJson !== undefined) throw new UsageError("give --token or --claims, not both");
  if (token === undefined && claimsJson === undefined) throw new UsageError(`give the caller: --token JWT or --claims JSON\n\n${HELP}`);
  const claims = token !== undefined ? claimsFromToken(token) : parseJsonObject(claimsJson as string, "--claims");

  const items = (["tool", "prompt", "resource", "resource-template"] as const).flatMap((option) => {
    const name = nonEmpty(values[option], `--${option}`);
    return name === undefined ? [] : [{ kind: option === "resource-template" ? ("resource" as const) : option, name, template: option === "resource-template" }];
  });
  const [item] = items;
  if (item === undefined || items.length > 1) throw new UsageError("give exactly one of --tool NAME, --prompt NAME, --resource URI, --resource-template URI_TEMPLATE");

  if (values.args !== undefined && item.kind !== "tool") throw new UsageError("--args goes with --tool: only tool calls have arguments");
  // --list asks for the listing question, --args for the call question: together they ask for neither.
  if (values.args !== undefined && values.list) throw new UsageError("--args judges a call and --list judges listing: give one of them");

  const server = nonEmpty(values.server, "--server");
  return {
    location: path !== undefined ? { ssmPath: path, ...(region === undefined ? {} : { region }) } : { files },
    claims,
    rolesClaim: nonEmpty(values["roles-claim"], "--roles-claim") ?? DEFAULT_ROLES_CLAIM,
    kind: item.kind,
    name: item.name,
    args: values.args === undefined ? undefined : parseJsonObject(values.args, "--args"),
    template: item.template,
    server: server === undefined ? undefined : serverName(server, "--server"),
  };
}

const explain: PolicySubcommand = {
  summary: "print what a policy decides for a caller (token or claims) and a tool, prompt or resource, and why",
  run: (args) =>
    reportingLoadErrors(async () => {
      const request = parseExplainArgs(args);
      if (!request) return 0;
      const policy = await loadPolicy(request.location);
      const identity = identityFrom(request.claims, request.rolesClaim);
      const item = request.template ? resourceTemplateItem(request.name, request.server) : policyItem(request.kind, request.name, request.args, request.server);
      const [what, who] = [describeItem(item), describeIdentity(identity)];
      const decision = decide(policy, identity, item);
      console.log(describeDecision(decision, what, who));
      // Documents marked dryRun are not enforced; the gateway logs what they would change, and so does explain.
      if (policy.withDryRun) console.log(`dry run (with the dryRun documents enforced too): ${describeDecision(decide(policy.withDryRun, identity, item), what, who)}`);
      return decision.allowed ? 0 : 1;
    }),
};

export default explain;
