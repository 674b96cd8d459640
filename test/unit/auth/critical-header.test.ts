/** crit is refused whatever it names: the gateway understands no JWS extension. */
import { describe, expect, it } from "vitest";
import { criticalHeaderRefusal } from "../../../functions/auth/critical-header.js";

const HEADER = { alg: "RS256", kid: "k1", typ: "JWT" };

describe("crit (RFC 7515 §4.1.11)", () => {
  it.each([[["b64"]], [["urn:example:must-understand"]], [[]], [null], ["b64"]])("refuses a header with crit %j", (crit) => {
    expect(criticalHeaderRefusal({ ...HEADER, crit })).toBe(
      `token header has crit ${JSON.stringify(crit)}: the gateway understands no JWS extension (RFC 7515 §4.1.11)`,
    );
  });

  it("lets a header without crit through", () => {
    expect(criticalHeaderRefusal(HEADER)).toBeUndefined();
    expect(criticalHeaderRefusal({ ...HEADER, b64: false })).toBeUndefined();
  });
});
