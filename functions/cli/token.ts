/** `mcp-sso-gateway token`: mints a token signed with the demo identity provider's key (what `step` did in the original). */
import { parseArgs } from "node:util";
import { loadOrCreateSigningKey, mintToken } from "../demo/identity-provider.js";
import { DEMO_AUDIENCE, DEMO_ISSUER, DEMO_KEY_PATH } from "./demo-defaults.js";
import { UsageError, parseOrUsage } from "./usage-error.js";

const HELP = `Usage: mcp-sso-gateway token --sub SUBJECT [options]

Prints a JWT signed with the demo identity provider's key (${DEMO_KEY_PATH}, created by 'npm start').
  --sub SUBJECT        the sub claim
  --claim NAME=VALUE   a further claim; VALUE is JSON when it parses ('roles=["admin"]'), else a string (repeatable)
  --claims JSON        several claims at once, as a JSON object
  --expires SPAN       lifetime: seconds, or 30m, 12h, 7d, 10y (default 1h)
  --issuer ISS         default ${DEMO_ISSUER}
  --audience AUD       default ${DEMO_AUDIENCE} (repeatable)
  --key FILE           signing key (default ${DEMO_KEY_PATH})`;

function parseClaimValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parseExpiry(raw: string): number | string {
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^\d+\s*(s|sec|m|min|h|hr|d|w|y)$/i.test(raw)) return raw;
  throw new UsageError(`--expires must be seconds or a span such as 30m, 12h, 7d, 10y, not ${JSON.stringify(raw)}`);
}

export async function token(args: string[]): Promise<void> {
  const { values } = parseOrUsage(HELP, () =>
    parseArgs({
      args,
      options: {
        sub: { type: "string" },
        claim: { type: "string", multiple: true },
        claims: { type: "string" },
        expires: { type: "string", default: "1h" },
        issuer: { type: "string", default: DEMO_ISSUER },
        audience: { type: "string", multiple: true },
        key: { type: "string", default: DEMO_KEY_PATH },
        help: { type: "boolean", short: "h" },
      },
    }),
  );
  if (values.help) {
    console.log(HELP);
    return;
  }
  const claims: Record<string, unknown> = {};
  if (values.claims) {
    const parsed = parseClaimValue(values.claims);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError("--claims must be a JSON object");
    Object.assign(claims, parsed);
  }
  for (const pair of values.claim ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--claim takes NAME=VALUE, not ${JSON.stringify(pair)}`);
    claims[pair.slice(0, at)] = parseClaimValue(pair.slice(at + 1));
  }
  const key = await loadOrCreateSigningKey(values.key);
  const jwt = await mintToken(key, {
    issuer: values.issuer,
    audience: values.audience?.length ? values.audience : DEMO_AUDIENCE,
    subject: values.sub,
    claims,
    expiresIn: parseExpiry(values.expires),
  });
  console.log(jwt);
}
