/** `mcp-sso-gateway token`: mints a token signed with the demo identity provider's key (what `step` did in the original). */
import { parseArgs } from "node:util";
import { SigningKeyFileError, mintToken, readSigningKey, type SigningJwk } from "../demo/identity-provider.js";
import { providerIssuer } from "../demo/provider-issuer.js";
import { DemoKeyNotServedError, servedDemoKey } from "../demo/served-key.js";
import { parseClaimValue } from "./claim-value.js";
import { CommandFailure } from "./command-failure.js";
import { DEMO_AUDIENCE, DEMO_IDP_PORT, DEMO_ISSUER, DEMO_KEY_PATH, IDP_PORT_VARIABLE } from "./demo-defaults.js";
import { portFromEnv } from "./serve.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "./usage-error.js";

const HELP = `Usage: mcp-sso-gateway token --sub SUBJECT [options]

Prints a JWT signed with the running demo's key, ${DEMO_KEY_PATH} in the directory 'npm start' runs in (once
the demo identity provider, on port ${IDP_PORT_VARIABLE} or else ${DEMO_IDP_PORT}, is seen to publish it), or with the key --key names.
  --sub SUBJECT        the sub claim (required: the gateway refuses tokens without one)
  --claim NAME=VALUE   a further claim (repeatable). VALUE is JSON when it starts with [ { or " or is a number, true,
                       false or null ('roles=["admin"]', 'level=3'); anything else is text ('team=blue')
  --claims JSON        several claims at once, as a JSON object
  --expires SPAN       lifetime: seconds, or 30m, 12h, 7d, 10y (default 1h)
  --issuer ISS         default ${DEMO_ISSUER}
  --audience AUD       default ${DEMO_AUDIENCE} (repeatable)
  --key FILE           signing key, used as it is (default the demo's, as above; a FILE named here must exist)
iss, sub, aud and exp come from these options, iat and jti from the time and a random id: not from --claim or --claims.`;

/** Claims the command sets itself, with where their value comes from; mintToken would overwrite them silently. */
const SET_BY_THE_COMMAND: Readonly<Record<string, string>> = {
  iss: "--issuer",
  sub: "--sub",
  aud: "--audience",
  exp: "--expires",
  iat: "the time of minting",
  jti: "a random id",
};

function parseExpiry(raw: string): number | string {
  const span = /^(\d+)\s*(s|sec|m|min|h|hr|d|w|y)?$/i.exec(raw);
  if (!span) throw new UsageError(`--expires must be seconds or a span such as 30m, 12h, 7d, 10y, not ${JSON.stringify(raw)}`);
  // A lifetime of 0 would mint a token that has already expired.
  if (Number(span[1]) === 0) throw new UsageError(`--expires must be more than 0, not ${JSON.stringify(raw)}`);
  return span[2] === undefined ? Number(span[1]) : raw;
}

function claimsObject(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--claims is not valid JSON (${(err as Error).message}); write an object such as '{"roles": ["admin"]}'`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--claims must be a JSON object, such as '{"roles": ["admin"]}'`);
  return parsed as Record<string, unknown>;
}

/** Every claim asked for; each named once, and none of those the command sets itself. */
function requestedClaims(claimsJson: string | undefined, pairs: readonly string[]): Record<string, unknown> {
  const claims = claimsJson === undefined ? {} : claimsObject(claimsJson);
  const fromPairs = new Set<string>();
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--claim takes NAME=VALUE, not ${JSON.stringify(pair)}`);
    const name = pair.slice(0, at);
    if (fromPairs.has(name)) throw new UsageError(`--claim ${name} is given twice; give each claim once (a list is one JSON value: '${name}=["a","b"]')`);
    if (Object.hasOwn(claims, name)) throw new UsageError(`the claim ${name} is given both in --claims and by --claim; give it once`);
    fromPairs.add(name);
    claims[name] = parseClaimValue(name, pair.slice(at + 1));
  }
  for (const name of Object.keys(claims)) {
    const source = SET_BY_THE_COMMAND[name];
    if (source !== undefined) {
      throw new UsageError(`the claim ${name} cannot be given in --claim or --claims: it comes from ${source}${source.startsWith("--") ? "" : " and cannot be chosen"}`);
    }
  }
  return claims;
}

/**
 * The signing key: the file --key names, or else the running demo's, and only while its identity provider publishes
 * it. Never a new one: a key nobody serves signs tokens every gateway refuses. A file that holds no private key is
 * refused, never replaced.
 */
async function signingKey(path: string, named: boolean): Promise<SigningJwk> {
  if (!named) {
    return servedDemoKey(path, providerIssuer(portFromEnv(IDP_PORT_VARIABLE, DEMO_IDP_PORT))).catch((err: unknown) => {
      throw err instanceof DemoKeyNotServedError || err instanceof SigningKeyFileError ? new CommandFailure(err.message, { cause: err }) : err;
    });
  }
  // The same reading as the demo's own (a file that is no private key is refused, and left as it is).
  const key = await readSigningKey(path).catch((err: unknown) => {
    throw err instanceof SigningKeyFileError ? new CommandFailure(`${err.message}; it was left as it is`, { cause: err }) : err;
  });
  if (!key) throw new UsageError(`--key ${path}: no such file (leave --key out to use the running demo's ${DEMO_KEY_PATH})`);
  return key;
}

const OPTIONS = {
  sub: { type: "string" },
  claim: { type: "string", multiple: true },
  claims: { type: "string" },
  expires: { type: "string", default: "1h" },
  issuer: { type: "string", default: DEMO_ISSUER },
  audience: { type: "string", multiple: true },
  key: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function token(args: string[]): Promise<void> {
  const { values } = parseOrUsage(HELP, () => parseArgs({ args, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return;
  }
  // RFC 9068 makes sub required in access tokens, and the gateway refuses a token without one.
  if (values.sub === undefined) throw new UsageError(`--sub is required: the gateway refuses tokens without a subject\n\n${HELP}`);
  if (values.sub.trim() === "") throw new UsageError("--sub must not be empty");
  const claims = requestedClaims(values.claims, values.claim ?? []);
  const expiresIn = parseExpiry(values.expires);
  const key = await signingKey(values.key ?? DEMO_KEY_PATH, values.key !== undefined);
  const jwt = await mintToken(key, {
    issuer: values.issuer,
    audience: values.audience?.length ? values.audience : DEMO_AUDIENCE,
    subject: values.sub,
    claims,
    expiresIn,
  });
  console.log(jwt);
}
