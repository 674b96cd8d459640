/**
 * Turns the policy into the decisions the gateway enforces, with dry run: the decision in force, and, when dry run is
 * on (globally with POLICY_DRY_RUN, or for documents marked `dryRun: true`), the decision the full policy would make,
 * reported where it differs so a rollout can be watched before it bites.
 */
import type { CompiledPolicy } from "../policy/compile.js";
import { decide } from "../policy/decide.js";
import type { Decision, Identity, PolicyItem } from "../policy/types.js";

export interface Judgement extends Decision {
  /** The would-be decision under dry run, present only when it differs from the one in force. */
  dryRun?: Decision;
}

export type Judge = (item: PolicyItem) => Judgement;

const DRY_RUN_ALLOWS: Decision = { allowed: true, rule: undefined, explanation: "the whole policy is in dry run (POLICY_DRY_RUN)" };

export function createJudge(policy: CompiledPolicy, identity: Identity, globalDryRun: boolean): Judge {
  const candidate = policy.withDryRun ?? (globalDryRun ? policy : undefined);
  return (item) => {
    const enforced = globalDryRun ? DRY_RUN_ALLOWS : decide(policy, identity, item);
    if (!candidate) return enforced;
    const wouldBe = decide(candidate, identity, item);
    return wouldBe.allowed === enforced.allowed ? enforced : { ...enforced, dryRun: wouldBe };
  };
}
