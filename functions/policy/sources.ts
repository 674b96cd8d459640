/**
 * Where policy documents come from: a local file (`POLICY_FILE`) or every parameter under an SSM path
 * (`POLICY_SSM_PATH`). A source only fetches text; parsing and compiling happen in the store.
 */
import { readFile } from "node:fs/promises";
import { SSMClient, paginateGetParametersByPath } from "@aws-sdk/client-ssm";
import type { PolicySourceConfig } from "../config/gateway-config.js";
import { PolicyError } from "../errors.js";
import type { PolicySourceText } from "./document.js";

export interface PolicySource {
  /** Human-readable place, for log lines. */
  readonly location: string;
  /** Fetches every document's text; rejects when the source cannot be read or holds nothing. */
  load(): Promise<PolicySourceText[]>;
}

export class FilePolicySource implements PolicySource {
  readonly location: string;
  constructor(private readonly path: string) {
    this.location = `file ${path}`;
  }
  async load(): Promise<PolicySourceText[]> {
    return [{ origin: this.path, text: await readFile(this.path, "utf8") }];
  }
}

/**
 * Reads every parameter under a path (recursively, SecureStrings decrypted), sorted by name so merges are stable.
 * The SDK resolves the endpoint the standard way, so `AWS_ENDPOINT_URL_SSM` points it at any SSM-compatible service.
 */
export class SsmPolicySource implements PolicySource {
  readonly location: string;
  constructor(
    private readonly path: string,
    private readonly client: SSMClient = new SSMClient({}),
  ) {
    this.location = `SSM path ${path}`;
  }

  async load(): Promise<PolicySourceText[]> {
    const documents: PolicySourceText[] = [];
    const pages = paginateGetParametersByPath(
      { client: this.client },
      { Path: this.path, Recursive: true, WithDecryption: true },
    );
    for await (const page of pages) {
      for (const parameter of page.Parameters ?? []) {
        if (parameter.Name && parameter.Value !== undefined) documents.push({ origin: parameter.Name, text: parameter.Value });
      }
    }
    if (documents.length === 0) throw new PolicyError(`no policy parameters found under ${this.path}`);
    return documents.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  }
}

export function createPolicySource(config: PolicySourceConfig): PolicySource {
  return config.kind === "file" ? new FilePolicySource(config.path) : new SsmPolicySource(config.path);
}

