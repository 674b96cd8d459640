/**
 * The front door's secret: when CloudFront fronts the function's own URL, it adds a secret header to every request,
 * and the function refuses any request without it, so the function URL cannot be used to go around CloudFront and its
 * WAF. The value is read from Secrets Manager or SSM, cached, refreshed, the last good value kept; compared in
 * constant time. Checked before anything else, as the Origin and Host are.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { EdgeSecretConfig } from "../config/gateway-config.js";
import { EdgeSecretUnavailableError, NotThroughFrontDoorError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import { describeSecret, readSecret } from "../proxy/secret-source.js";

/** Equal-length digests, so the comparison takes the same time whatever the values. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export class EdgeSecretCheck {
  private readonly value: RefreshingValue<Buffer>;

  constructor(
    private readonly config: EdgeSecretConfig,
    logger: GatewayLogger,
  ) {
    this.value = new RefreshingValue(async () => digest((await readSecret(config.source)).trim()), {
      maxAgeMs: config.cacheSeconds * 1000,
      onError: (err, keepingLastGood) =>
        logger.error(keepingLastGood ? "front door secret refresh failed; keeping the last good value" : "front door secret could not be read", {
          source: describeSecret(config.source),
          error: err instanceof Error ? err.message : String(err),
        }),
    });
  }

  /** Throws NotThroughFrontDoorError (403) without the right header, EdgeSecretUnavailableError (503) when unreadable. */
  async check(headers: Headers): Promise<void> {
    const expected = await this.value.get();
    if (expected === undefined) throw new EdgeSecretUnavailableError(`front door secret unavailable (${describeSecret(this.config.source)})`);
    const sent = headers.get(this.config.header);
    if (sent === null) throw new NotThroughFrontDoorError(`no ${this.config.header} header: the request did not come through the front door`);
    if (!timingSafeEqual(digest(sent.trim()), expected)) throw new NotThroughFrontDoorError(`${this.config.header} header does not hold the front door's secret`);
  }

  async warmUp(): Promise<void> {
    await this.value.get();
  }
}
