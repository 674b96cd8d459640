/**
 * Holds the policy in force: loads it from its source, keeps it for `POLICY_CACHE_SECONDS`, reloads it on the first
 * request after that, and keeps the last good policy when a reload fails. With no good policy ever loaded it answers
 * `undefined`, and the gateway refuses everything (fail closed).
 */
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { GatewayLogger } from "../logging.js";
import type { GatewayMetrics } from "../metrics.js";
import { compilePolicy, type CompiledPolicy } from "./compile.js";
import { parsePolicyDocument } from "./document.js";
import type { PolicySource } from "./sources.js";

export interface PolicyStoreOptions {
  /** Seconds a loaded policy is used before the source is read again; 0 reads it on every request. */
  cacheSeconds: number;
  logger: GatewayLogger;
  /** Counts failed loads. Default: not counted. */
  metrics?: Pick<GatewayMetrics, "policyLoadFailed">;
  /** Clock in milliseconds; replaceable so cache expiry can be reasoned about in isolation. */
  now?: () => number;
}

interface LoadedPolicy {
  policy: CompiledPolicy;
  /** The source texts the policy was compiled from. */
  fingerprint: string;
}

export class PolicyStore {
  private readonly loaded: RefreshingValue<LoadedPolicy>;

  constructor(source: PolicySource, { cacheSeconds, logger, metrics, now }: PolicyStoreOptions) {
    this.loaded = new RefreshingValue<LoadedPolicy>(
      async (current) => {
        const texts = await source.load();
        const fingerprint = JSON.stringify(texts);
        // Unchanged documents are not parsed and compiled again.
        if (current?.fingerprint === fingerprint) return current;
        const policy = compilePolicy(texts.map(parsePolicyDocument));
        logger.info("policy loaded", { source: source.location, documents: policy.origins, rules: policy.rules.length });
        return { policy, fingerprint };
      },
      {
        maxAgeMs: cacheSeconds * 1000,
        now,
        onError: (err, keepingLastGood) => {
          metrics?.policyLoadFailed();
          const fields = { source: source.location, error: err instanceof Error ? err.message : String(err) };
          if (keepingLastGood) logger.error("policy reload failed; keeping the last good policy", fields);
          else logger.error("no policy could be loaded; every MCP request is refused", fields);
        },
      },
    );
  }

  /** The policy in force, reloading first when the cached one has expired. */
  async current(): Promise<CompiledPolicy | undefined> {
    return (await this.loaded.get())?.policy;
  }
}
