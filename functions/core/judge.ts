/**
 * Turns the policy into the decisions the gateway enforces, with dry run: the decision in force, and, when dry run is
 * on (globally with POLICY_DRY_RUN, or for documents marked `dryRun: true`), the decision the full policy would make,
 * reported where it differs so a rollout can be watched before it bites.
 */
import type { CompiledPolicy } from "../policy/compile.js";
import { decider } from "../policy/decide.js";
import type { Decision, Identity, PolicyItem } from "../policy/types.js";

export interface Judgement extends Decision {
  /** The would-be decision under dry run, present only when it differs from the one in force. */
  dryRun?: Decision;
}

export type Judge = (item: PolicyItem) => Judgement;

const DRY_RUN_ALLOWS: Decision = { allowed: true, rule: undefined, explanation: "the whole policy is in dry run (POLICY_DRY_RUN)" };

export function createJudge(policy: CompiledPolicy, identity: Identity, globalDryRun: boolean): Judge {
  const candidate = policy.withDryRun ?? (globalDryRun ? policy : undefined);
  // One decider per policy for the whole request: what depends on the caller alone is worked out once, not per item.
  const enforcedDecision = decider(policy, identity);
  const candidateDecision = candidate && decider(candidate, identity);
  return (item) => {
    const enforced = globalDryRun ? DRY_RUN_ALLOWS : enforcedDecision(item);
    if (!candidateDecision) return enforced;
    const wouldBe = candidateDecision(item);
    return wouldBe.allowed === enforced.allowed ? enforced : { ...enforced, dryRun: wouldBe };
  };
}
