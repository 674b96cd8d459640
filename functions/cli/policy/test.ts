/** `mcp-sso-gateway policy test`: runs a table of expected decisions against a policy, for CI. */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import type { CompiledPolicy } from "../../policy/compile.js";
import { decide } from "../../policy/decide.js";
import { UsageError } from "../usage-error.js";
import type { PolicySubcommand } from "./command.js";
import { DEFAULT_ROLES_CLAIM, describeIdentity, describeItem, identityFrom, policyItem } from "./identity-input.js";
import { describeDecision, loadPolicy, reportingLoadErrors } from "./policy-input.js";
import { TestFileError, parseTestFile, type TestCase } from "./test-file.js";

const HELP = `Usage: mcp-sso-gateway policy test FILE...

Runs the cases of each policy test file against the policy it names, prints one line per case (ok or FAIL, with
the decision and the rule that made it), then "N passed, M failed".
Exit code 0 when every case passes, 1 when one fails, 2 when a test file or its policy is invalid.

A test file (YAML):

  policy: [walkthrough.yaml]          # policy files, relative to the test file (one name or a list), or
                                      # policy: { path: /an/ssm/path } for every document under an SSM path,
                                      # read as the gateway reads them (region: optional; path: /an/ssm/path too)
  rolesClaim: roles                   # optional, as the gateway's ROLES_CLAIM (default ${DEFAULT_ROLES_CLAIM})
  identities:                         # named claim sets, reused by the cases
    boss: { sub: pointy-haired-boss, roles: [admin] }
    jsmith: { sub: jsmith }
  cases:                              # as (an identity) or claims; tool, prompt or resource; expect allow or deny
    - { as: jsmith, tool: echo, expect: deny }
    - { as: boss, tool: echo, expect: allow, rule: "walkthrough.yaml rules[0]" }  # optional: the deciding rule
    - { as: boss, tool: transfer, args: { amount: 50 }, expect: allow }         # a call with these arguments
    - { claims: { sub: x }, prompt: summarize, expect: deny, rule: null }       # null: no rule, a default decided
    - { as: boss, tool: search_code, server: github, expect: allow }           # an item of the server github

A tool without args is judged as listing (could some arguments be allowed), as tools/list is. A case with server
judges an item of that server, as the gateway names it: its servers.NAME grants apply, and rules read the name as
mcp.<kind>.target; a case without is of no server, which only top-level grants and rules not needing the target can
allow. Claims are used as given: no token is involved or verified.`;

interface Outcome {
  passed: boolean;
  line: string;
}

/** What the expected rule looks like in a FAIL line: the rule, or "a default" for null/undefined. */
function ruleText(rule: string | null | undefined): string {
  return rule == null ? "a default (no rule)" : JSON.stringify(rule);
}

function runCase(policy: CompiledPolicy, rolesClaim: string, testCase: TestCase): Outcome {
  const identity = identityFrom(testCase.claims, rolesClaim);
  const item = policyItem(testCase.kind, testCase.itemName, testCase.args, testCase.server);
  const decision = decide(policy, identity, item);
  const who = testCase.identityName ?? describeIdentity(identity);
  const described = describeDecision(decision, describeItem(item), who);
  const label = testCase.name ? `${testCase.place} ${JSON.stringify(testCase.name)}` : testCase.place;

  const actual = decision.allowed ? "allow" : "deny";
  if (actual !== testCase.expect) return { passed: false, line: `FAIL ${label}: expected ${testCase.expect}, got ${described}` };
  if (testCase.rule !== undefined && (decision.rule ?? null) !== testCase.rule) {
    return { passed: false, line: `FAIL ${label}: expected ${actual} by ${ruleText(testCase.rule)}, but decided by ${ruleText(decision.rule)}: ${described}` };
  }
  return { passed: true, line: `ok   ${label}: ${described}` };
}

interface Tally {
  passed: number;
  failed: number;
}

/** Runs one test file; undefined when the file itself is invalid (reported on stderr). */
async function runTestFile(path: string, heading: boolean): Promise<Tally | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read test file ${path}: ${(err as Error).message}`);
  }
  let testFile;
  try {
    testFile = parseTestFile(path, text, dirname(path));
  } catch (err) {
    if (!(err instanceof TestFileError)) throw err;
    console.error(err.message);
    return undefined;
  }
  const policy = await loadPolicy(testFile.location);
  const rolesClaim = testFile.rolesClaim ?? DEFAULT_ROLES_CLAIM;
  if (heading) console.log(`${path}:`);
  const tally = { passed: 0, failed: 0 };
  for (const testCase of testFile.cases) {
    const outcome = runCase(policy, rolesClaim, testCase);
    tally[outcome.passed ? "passed" : "failed"]++;
    console.log(outcome.line);
  }
  return tally;
}

/** Runs every file (so one CI step can cover all of them); an invalid file still fails the run with exit code 2. */
async function runTestFiles(paths: readonly string[]): Promise<number> {
  const total = { passed: 0, failed: 0 };
  let invalid = false;
  for (const path of paths) {
    const tally = await runTestFile(path, paths.length > 1);
    if (!tally) invalid = true;
    else {
      total.passed += tally.passed;
      total.failed += tally.failed;
    }
  }
  // An invalid file has no cases to count: a "0 passed, 0 failed" under its errors would only confuse.
  if (!invalid || total.passed + total.failed > 0) console.log(`${total.passed} passed, ${total.failed} failed`);
  return invalid ? 2 : total.failed === 0 ? 0 : 1;
}

const test: PolicySubcommand = {
  summary: "run a policy test file: expected allow/deny decisions for callers and items, for CI",
  run: (args) =>
    reportingLoadErrors(async () => {
      let parsed;
      try {
        parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
      } catch (err) {
        throw new UsageError(`${(err as Error).message}\n\n${HELP}`);
      }
      if (parsed.values.help) {
        console.log(HELP);
        return 0;
      }
      if (parsed.positionals.length === 0) throw new UsageError(`give a test FILE\n\n${HELP}`);
      return runTestFiles(parsed.positionals);
    }),
};

export default test;
