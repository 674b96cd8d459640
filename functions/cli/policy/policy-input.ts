/**
 * Loads the policy `policy explain` and `policy test` judge with, through validatePolicyTexts: parsed, validated and
 * compiled exactly as the gateway would, so a decision printed here is the decision the gateway makes.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CompiledPolicy } from "../../policy/compile.js";
import type { PolicySourceText } from "../../policy/document.js";
import type { Decision } from "../../policy/types.js";
import { validatePolicyTexts } from "../../policy/validate-documents.js";
import { UsageError } from "../usage-error.js";

/** Policy files (each named in rule origins as written), or every document under an SSM path. */
export type PolicyLocation = { files: readonly string[]; baseDir?: string } | { ssmPath: string; region?: string };

/** The policy could not be read or is invalid: the command cannot decide anything (exit code 2, no stack trace). */
export class PolicyLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PolicyLoadError";
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Files are read relative to `baseDir` (a test file's folder) but keep the name they were written with as their
 * origin, so a rule is named the same (`walkthrough.yaml rules[0]`) whatever directory the command runs from.
 */
async function readFiles(files: readonly string[], baseDir: string | undefined): Promise<PolicySourceText[]> {
  return Promise.all(
    files.map(async (file) => {
      try {
        return { origin: file, text: await readFile(baseDir === undefined ? file : resolve(baseDir, file), "utf8") };
      } catch (err) {
        throw new PolicyLoadError(`cannot read policy file ${file}: ${reason(err)}`, { cause: err });
      }
    }),
  );
}

async function readSsm(path: string, region: string | undefined): Promise<PolicySourceText[]> {
  if (!path.startsWith("/")) throw new UsageError(`--path must be an SSM parameter path starting with "/", not ${JSON.stringify(path)}`);
  // Loaded only when used: the AWS SDK is a good part of the start-up time of a command that reads local files.
  const [{ SSMClient }, { SsmPolicySource }] = await Promise.all([import("@aws-sdk/client-ssm"), import("../../policy/sources.js")]);
  try {
    return await new SsmPolicySource(path, new SSMClient(region === undefined ? {} : { region })).load();
  } catch (err) {
    throw new PolicyLoadError(`cannot read policy from SSM path ${path}: ${reason(err)}`, { cause: err });
  }
}

export async function loadPolicy(location: PolicyLocation): Promise<CompiledPolicy> {
  const texts = "ssmPath" in location ? await readSsm(location.ssmPath, location.region) : await readFiles(location.files, location.baseDir);
  try {
    return validatePolicyTexts(texts).policy;
  } catch (err) {
    throw new PolicyLoadError(`the policy is invalid: ${reason(err)}`, { cause: err });
  }
}

/** `ALLOW tool echo (listing) for sub=boss roles=[admin]: allowed by walkthrough.yaml rules[0]` */
export function describeDecision(decision: Decision, item: string, identity: string): string {
  return `${decision.allowed ? "ALLOW" : "DENY"} ${item} for ${identity}: ${decision.explanation}`;
}

/**
 * A subcommand's body, with load failures reported as one line on stderr and exit code 2 (distinct from explain's
 * 1 = deny and test's 1 = a case failed, so scripts never mistake "could not decide" for an answer). Usage errors
 * go on to the CLI's entry point, which prints them the same way.
 */
export async function reportingLoadErrors(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof PolicyLoadError)) throw err;
    console.error(err.message);
    return 2;
  }
}
