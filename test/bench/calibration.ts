/**
 * A yardstick of the machine, so figures from different machines can be compared: one RS256 signature verification
 * (node:crypto, 2048-bit key), the work of verifying one token.
 */
import { createPublicKey, verify, type JsonWebKey } from "node:crypto";
import { median } from "./stats.js";

export interface Calibration {
  rs256VerifyUs: number;
}

export function calibrate(token: string, publicJwk: JsonWebKey): Calibration {
  const [header, payload, signature] = token.split(".");
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature ?? "", "base64url");
  const key = createPublicKey({ key: publicJwk, format: "jwk" });
  const perVerification: number[] = [];
  for (let batch = 0; batch < 11; batch++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      if (!verify("RSA-SHA256", data, key, sig)) throw new Error("calibration: the token's signature does not verify");
    }
    perVerification.push(((performance.now() - t0) * 1000) / 200);
  }
  return { rs256VerifyUs: median(perVerification) };
}
