/**
 * Context `backends`: several backend MCP servers as a JSON list (`-c backends='[{"name":"github","url":"https://..."}]'`,
 * or a list in cdk.json). Each entry is MCP_BACKENDS' own, checked by the function's rules, except that a credential's
 * secret is given by its complete ARN (`secretArn`), so that the stack grants exactly it; in the stack, the list
 * becomes the construct's `backends`, each credential's secret or parameter imported.
 */
import { Duration } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { entriesLoopbackProblems, entryLabel, type BackendEntry } from "./backend-entries.js";
import type { BackendServer } from "./backends.js";
import type { BackendCredential } from "./function-secrets.js";

/** A server's credential as context names it: the header, and the secret's complete ARN or the parameter's name. */
export type BackendSettingCredential = { header: string; secretArn: string } | { header: string; ssmParameter: string };

/** One server of context `backends`: MCP_BACKENDS' entry, with the credential's secret given by its ARN. */
export interface BackendSetting extends Omit<BackendEntry, "credential"> {
  /** `{ "header": ..., "secretArn": <complete ARN> }` or `{ "header": ..., "ssmParameter": <name> }`. Default: none. */
  credential?: BackendSettingCredential;
}

const CREDENTIAL_FIELDS = ["header", "secretArn", "ssmParameter"];
/** A complete secret ARN (with the six characters Secrets Manager adds), so that the grant needs no wildcard. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
/** A parameter's name (not its ARN), with or without the leading slash. */
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problems of a credential that only context has: the fields it takes, the secret's ARN, the parameter's name. */
function credentialProblems(credential: Record<string, unknown>, label: string): string[] {
  const problems = Object.keys(credential)
    .filter((field) => !CREDENTIAL_FIELDS.includes(field))
    .map((field) => `${label} has no field ${JSON.stringify(field)} here (known: ${CREDENTIAL_FIELDS.join(", ")}; a secret is given by its complete ARN, secretArn)`);
  const { secretArn, ssmParameter } = credential;
  if (secretArn !== undefined && (typeof secretArn !== "string" || !SECRET_ARN.test(secretArn))) {
    problems.push(`${label}.secretArn must be a secret's complete ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), not ${JSON.stringify(secretArn)}`);
  }
  if (ssmParameter !== undefined && (typeof ssmParameter !== "string" || !PARAMETER_NAME.test(ssmParameter))) {
    problems.push(`${label}.ssmParameter must be a parameter's name (letters, digits, _ . - /; not its ARN), not ${JSON.stringify(ssmParameter)}`);
  }
  return problems;
}

/** An entry as the function reads it: the secret's ARN as its id. */
function entryOf(entry: unknown): unknown {
  if (!isObject(entry) || !isObject(entry.credential) || !("secretArn" in entry.credential)) return entry;
  const { secretArn, ...credential } = entry.credential;
  return { ...entry, credential: { ...credential, secretId: secretArn } };
}

/**
 * Reads context `backends` (a JSON string from `-c`, or a list from cdk.json): the servers; MCP_BACKENDS for the
 * function's checks to be run on, which name each bad entry and field; and the problems only context has.
 */
export function backendSettingsFromContext(value: unknown): { settings: BackendSetting[]; environment: Record<string, string>; problems: string[] } {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    // Not JSON: the function's check says so, in its words.
    return { settings: [], environment: { MCP_BACKENDS: text }, problems: [] };
  }
  if (!Array.isArray(list)) return { settings: [], environment: { MCP_BACKENDS: text }, problems: [] };
  const problems = [
    ...list.flatMap((entry: unknown, index) =>
      isObject(entry) && isObject(entry.credential) ? credentialProblems(entry.credential, `${entryLabel(index, entry.name)}.credential`) : [],
    ),
    ...entriesLoopbackProblems(list),
  ];
  return { settings: list as BackendSetting[], environment: { MCP_BACKENDS: JSON.stringify(list.map(entryOf)) }, problems };
}

/** The construct's servers for these (checked) settings, each credential's secret or parameter imported. */
export function backendServers(scope: Construct, settings: readonly BackendSetting[]): BackendServer[] {
  const credentialOf = (credential: BackendSettingCredential, id: string): BackendCredential =>
    "secretArn" in credential
      ? { header: credential.header, secret: secretsmanager.Secret.fromSecretCompleteArn(scope, id, credential.secretArn) }
      : { header: credential.header, parameter: ssm.StringParameter.fromSecureStringParameterAttributes(scope, id, { parameterName: credential.ssmParameter }) };
  return settings.map(({ name, url, timeoutMs, credential, identityHeaders, token }, index) => ({
    name,
    url,
    timeout: timeoutMs === undefined ? undefined : Duration.millis(timeoutMs),
    credential: credential && credentialOf(credential, `BackendCredential${index}`),
    identityHeaders,
    token: token && { header: token.header, audience: token.audience, claims: token.claims, ttl: token.ttlSeconds === undefined ? undefined : Duration.seconds(token.ttlSeconds) },
  }));
}
