/** Dry run: decisions in force versus would-be decisions, per document and for the whole policy. */
import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { createJudge } from "../../../functions/core/judge.js";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";

const documents = (...texts: Array<[string, string]>) => compilePolicy(texts.map(([origin, text]) => parsePolicyDocument({ origin, text })));
const jsmith = identityFromClaims({ sub: "jsmith" }, "roles");
const echo = { kind: "tool" as const, name: "echo" };
const wipe = { kind: "tool" as const, name: "wipe" };

describe("createJudge", () => {
  const current = ["current.yaml", "tools:\n  echo: ['*']\n  wipe: ['*']"] as [string, string];
  const candidate = ["candidate.yaml", "dryRun: true\nrules:\n- deny: 'mcp.tool.name == \"wipe\"'"] as [string, string];

  it("enforces only documents not in dry run, and reports where a dry-run document would change the decision", () => {
    const judge = createJudge(documents(current, candidate), jsmith, false);
    expect(judge(echo)).toEqual({ allowed: true, rule: "current.yaml tools.echo", explanation: "allowed by current.yaml tools.echo" });
    expect(judge(wipe)).toMatchObject({ allowed: true, dryRun: { allowed: false, rule: "candidate.yaml rules[0]" } });
  });

  it("never lets a dry-run document open what is denied", () => {
    const opener = ["open.yaml", "dryRun: true\nrules: ['true']"] as [string, string];
    const judge = createJudge(documents(["current.yaml", "tools:\n  echo: [admin]"], opener), jsmith, false);
    expect(judge(echo)).toMatchObject({ allowed: false, dryRun: { allowed: true } });
  });

  it("with only dry-run documents, enforces an empty policy: everything denied (fail closed)", () => {
    const judge = createJudge(documents(candidate), jsmith, false);
    expect(judge(echo).allowed).toBe(false);
  });

  it("with the whole policy in dry run, allows everything and reports what the policy would deny", () => {
    const judge = createJudge(documents(["p.yaml", "tools:\n  echo: ['*']"]), jsmith, true);
    expect(judge(echo)).toEqual({ allowed: true, rule: undefined, explanation: "the whole policy is in dry run (POLICY_DRY_RUN)" });
    expect(judge(wipe)).toMatchObject({ allowed: true, dryRun: { allowed: false, rule: undefined } });
  });

  it("reports nothing extra when no dry run is configured", () => {
    expect(createJudge(documents(current), jsmith, false)(wipe)).not.toHaveProperty("dryRun");
  });
});
