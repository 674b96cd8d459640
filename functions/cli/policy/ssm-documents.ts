/**
 * Policy documents in SSM Parameter Store, for the CLI: read them as the gateway does (every parameter under the
 * path, recursively, decrypted), check a new text against the others before it is written (the gateway merges
 * them, and one invalid document makes the whole policy fail to load), and write it under the rules of the path.
 */
import {
  DescribeParametersCommand,
  GetParameterCommand,
  PutParameterCommand,
  SSMClient,
  paginateGetParameterHistory,
  paginateGetParametersByPath,
  type ParameterHistory,
} from "@aws-sdk/client-ssm";
import { PolicyError } from "../../errors.js";
import { validatePolicyTexts } from "../../policy/validate-documents.js";
import { CommandFailure } from "./ssm-options.js";

/**
 * The parameter the CDK stack seeds and owns (lib/mcp-sso-gateway.ts SEED_PARAMETER_NAME; not imported, so the CLI
 * does not load aws-cdk-lib; the e2e test pushes to SEED_PARAMETER_NAME itself). A push there could be overwritten by
 * a later `cdk deploy` and is deleted by `cdk destroy`.
 */
export const STACK_OWNED_NAME = "stack-default";

export const STANDARD_LIMIT = 4096;
export const ADVANCED_LIMIT = 8192;

export type Tier = "Standard" | "Advanced";

export interface StoredDocument {
  /** The full parameter name, `<path>/<name>`. */
  name: string;
  text: string;
  version: number;
}

export function ssmClient(region: string | undefined): SSMClient {
  return new SSMClient(region === undefined ? {} : { region });
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** Runs one SSM call; its failure becomes one line naming what was being done and to which parameter. */
export async function ssmCall<T>(doing: string, parameter: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const detail = error.message && error.message !== error.name ? `: ${firstLine(error.message)}` : "";
    throw new CommandFailure(`could not ${doing} ${parameter}: ${error.name}${detail}`, { cause: err });
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === "ParameterNotFound";
}

/** Every document under the path, sorted by name as the gateway merges them. */
export async function listDocuments(client: SSMClient, path: string): Promise<StoredDocument[]> {
  return ssmCall("read the documents under", path, async () => {
    const documents: StoredDocument[] = [];
    const pages = paginateGetParametersByPath({ client }, { Path: path, Recursive: true, WithDecryption: true });
    for await (const page of pages) {
      for (const p of page.Parameters ?? []) {
        if (p.Name && p.Value !== undefined) documents.push({ name: p.Name, text: p.Value, version: p.Version ?? 0 });
      }
    }
    return documents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });
}

/** One document, or undefined when there is no such parameter. */
export async function getDocument(client: SSMClient, name: string): Promise<StoredDocument | undefined> {
  return ssmCall("read", name, async () => {
    try {
      const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return { name, text: Parameter?.Value ?? "", version: Parameter?.Version ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** Every version SSM still keeps of a parameter (the last 100), oldest first, values decrypted. */
export async function parameterHistory(client: SSMClient, name: string): Promise<ParameterHistory[]> {
  return ssmCall("read the history of", name, async () => {
    const versions: ParameterHistory[] = [];
    for await (const page of paginateGetParameterHistory({ client }, { Name: name, WithDecryption: true })) {
      versions.push(...(page.Parameters ?? []));
    }
    return versions.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
  });
}

/**
 * Refuses a text the gateway would refuse: first on its own (so the error is about this document), then merged with
 * the other documents under the path exactly as the gateway will load them. Returns how many documents were merged.
 */
export function checkBeforeWriting(path: string, target: string, candidate: { origin: string; text: string }, stored: readonly StoredDocument[]): number {
  const refusal = (what: string, err: unknown): never => {
    if (!(err instanceof PolicyError)) throw err;
    throw new CommandFailure(`refused, nothing written: ${what}${err.message}`, { cause: err });
  };
  try {
    validatePolicyTexts([candidate]);
  } catch (err) {
    refusal("", err);
  }
  const merged = [...stored.filter((d) => d.name !== target).map((d) => ({ origin: d.name, name: d.name, text: d.text })), { ...candidate, name: target }]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ origin, text }) => ({ origin, text }));
  try {
    validatePolicyTexts(merged);
  } catch (err) {
    refusal(`with ${candidate.origin} as ${target}, the merged policy under ${path} would not load: `, err);
  }
  return merged.length;
}

/** The tier a text needs; refuses what no parameter can hold. */
export function tierFor(text: string, what: string, path: string): Tier {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= STANDARD_LIMIT) return "Standard";
  if (bytes <= ADVANCED_LIMIT) return "Advanced";
  throw new CommandFailure(
    `refused, nothing written: ${what} is ${bytes} bytes, and an SSM parameter holds at most ${ADVANCED_LIMIT} (Advanced tier); ` +
      `split it into several documents under ${path}, which the gateway merges`,
  );
}

/** The parameter as it is now (type and tier), or undefined when it does not exist yet. */
async function describeParameter(client: SSMClient, name: string): Promise<{ type?: string; tier?: string } | undefined> {
  return ssmCall("describe", name, async () => {
    const { Parameters } = await client.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }] }),
    );
    const found = Parameters?.find((p) => p.Name === name);
    return found && { type: found.Type, tier: found.Tier };
  });
}

/** What a write will do, worked out before anything is written (also what --dry-run-check reports). */
export interface WritePlan {
  name: string;
  text: string;
  tier: Tier;
  /**
   * The newest version, when it already holds exactly this text: writing would only add a version with nothing new
   * in it, so nothing is written.
   */
  unchangedVersion: number | undefined;
}

/**
 * Plans writing `text` to `name`: the parameter must not be the stack's, nor a SecureString (written back as a
 * String its content would no longer be encrypted), an Advanced parameter stays Advanced (SSM cannot turn one back
 * into a Standard parameter), and a text the newest version already holds is not written again.
 */
export async function planWrite(client: SSMClient, name: string, text: string, tier: Tier): Promise<WritePlan> {
  const current = await describeParameter(client, name);
  if (current?.type === "SecureString") {
    throw new CommandFailure(
      `refused, nothing written: ${name} is a SecureString, and this command writes String parameters; ` +
        "update it with 'aws ssm put-parameter --type SecureString --overwrite' to keep it encrypted",
    );
  }
  const newest = current ? await getDocument(client, name) : undefined;
  return {
    name,
    text,
    tier: current?.tier === "Advanced" ? "Advanced" : tier,
    unchangedVersion: newest?.text === text ? newest.version : undefined,
  };
}

/** Refuses a write to the parameter the CDK stack owns. */
export function refuseStackOwned(path: string, documentName: string): void {
  if (documentName === STACK_OWNED_NAME) {
    throw new CommandFailure(
      `refused, nothing written: ${path}/${STACK_OWNED_NAME} is owned by the CDK stack (a later cdk deploy may overwrite ` +
        "it, and cdk destroy deletes it); write your policy under another name, e.g. --name main",
    );
  }
}

/** Writes the planned text as a new version; resolves to that version. */
export async function write(client: SSMClient, plan: WritePlan): Promise<number> {
  return ssmCall("write", plan.name, async () => {
    const { Version } = await client.send(
      new PutParameterCommand({ Name: plan.name, Value: plan.text, Type: "String", Overwrite: true, Tier: plan.tier }),
    );
    return Version ?? 0;
  });
}
