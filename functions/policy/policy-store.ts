/**
 * Holds the policy in force: loads it from its source, keeps it for `POLICY_CACHE_SECONDS`, reloads it on the first
 * request after that (one reload at a time), and keeps the last good policy when a reload fails. With no good policy
 * ever loaded it answers `undefined`, and the gateway refuses everything (fail closed).
 */
import type { GatewayLogger } from "../logging.js";
import { compilePolicy, type CompiledPolicy } from "./compile.js";
import { parsePolicyDocument } from "./document.js";
import type { PolicySource } from "./sources.js";

export interface PolicyStoreOptions {
  /** Seconds a loaded policy is used before the source is read again; 0 reads it on every request. */
  cacheSeconds: number;
  logger: GatewayLogger;
  /** Clock in milliseconds; replaceable so cache expiry can be reasoned about in isolation. */
  now?: () => number;
}

/** While no policy has ever loaded, the source is retried at most this often, in milliseconds. */
const RETRY_WITHOUT_POLICY_MS = 1_000;

export class PolicyStore {
  private policy: CompiledPolicy | undefined;
  /** The source texts the policy in force was compiled from. */
  private fingerprint: string | undefined;
  private nextLoadAt = 0;
  private loading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly source: PolicySource,
    private readonly options: PolicyStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The policy in force, reloading first when the cached one has expired. */
  async current(): Promise<CompiledPolicy | undefined> {
    if (this.now() >= this.nextLoadAt) {
      this.loading ??= this.reload().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.policy;
  }

  private async reload(): Promise<void> {
    try {
      const texts = await this.source.load();
      const fingerprint = JSON.stringify(texts);
      // Unchanged documents are not parsed and compiled again.
      if (fingerprint !== this.fingerprint || !this.policy) {
        this.policy = compilePolicy(texts.map(parsePolicyDocument));
        this.fingerprint = fingerprint;
        this.options.logger.info("policy loaded", {
          source: this.source.location,
          documents: this.policy.origins,
          rules: this.policy.rules.length,
        });
      }
      this.nextLoadAt = this.now() + this.options.cacheSeconds * 1000;
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (this.policy) {
        this.nextLoadAt = this.now() + this.options.cacheSeconds * 1000;
        this.options.logger.error("policy reload failed; keeping the last good policy", { source: this.source.location, error: detail });
      } else {
        this.nextLoadAt = this.now() + Math.min(RETRY_WITHOUT_POLICY_MS, this.options.cacheSeconds * 1000);
        this.options.logger.error("no policy could be loaded; every MCP request is refused", { source: this.source.location, error: detail });
      }
    }
  }
}
