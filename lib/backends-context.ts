/**
 * Context `backends`: several backend MCP servers as a JSON list (`-c backends='[{"name":"github","url":"https://..."}]'`,
 * or a list in cdk.json). Each entry is MCP_BACKENDS' own, checked by the function's rules, except that a credential's
 * secret is given by its complete ARN (`secretArn`), so that the stack grants exactly it (a token exchange's
 * `clientSecret` and `privateKey` too); in the stack, the list becomes the construct's `backends`, each secret or
 * parameter imported.
 */
import { Duration } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { entriesLoopbackProblems, entryLabel, type BackendEntry } from "./backend-entries.js";
import type { TokenExchangeInput } from "../functions/config/token-exchange.js";
import type { ClientSecretMethod } from "../functions/config/token-exchange-presets.js";
import type { BackendServer } from "./backends.js";
import type { BackendCredential, ValueStore } from "./function-secrets.js";

/** A server's credential as context names it: the header, and the secret's complete ARN or the parameter's name. */
export type BackendSettingCredential = { header: string; secretArn: string } | { header: string; ssmParameter: string };

/** Where a token exchange's client secret or private key is, as context names it. */
export type BackendSettingStore = { secretArn: string; ssmParameter?: undefined } | { ssmParameter: string; secretArn?: undefined };

/** A server's token exchange as context gives it: MCP_BACKENDS' options, the secret or key by ARN or parameter name. */
export interface BackendSettingTokenExchange extends Omit<TokenExchangeInput, "clientSecret" | "privateKey"> {
  /** `{ "secretArn": <complete ARN> }` or `{ "ssmParameter": <name> }`, with `method` optionally. */
  clientSecret?: BackendSettingStore & { method?: ClientSecretMethod };
  /** `{ "secretArn": <complete ARN> }` or `{ "ssmParameter": <name> }`: a private JWK for private_key_jwt. */
  privateKey?: BackendSettingStore;
}

/** One server of context `backends`: MCP_BACKENDS' entry, with each secret given by its ARN. */
export interface BackendSetting extends Omit<BackendEntry, "credential" | "tokenExchange"> {
  /** `{ "header": ..., "secretArn": <complete ARN> }` or `{ "header": ..., "ssmParameter": <name> }`. Default: none. */
  credential?: BackendSettingCredential;
  /** MCP_BACKENDS' `tokenExchange`, its `clientSecret` or `privateKey` by `secretArn` or `ssmParameter`. Default: none. */
  tokenExchange?: BackendSettingTokenExchange;
}

const CREDENTIAL_FIELDS = ["header", "secretArn", "ssmParameter"];
/** The fields of a token exchange's secret or key in context; the exchange's other fields are the function's to check. */
const EXCHANGE_STORE_FIELDS = { clientSecret: ["secretArn", "ssmParameter", "method"], privateKey: ["secretArn", "ssmParameter"] } as const;
/** A complete secret ARN (with the six characters Secrets Manager adds), so that the grant needs no wildcard. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
/** A parameter's name (not its ARN), with or without the leading slash. */
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problems of a credential that only context has: the fields it takes, the secret's ARN, the parameter's name. */
function credentialProblems(credential: Record<string, unknown>, label: string, fields: readonly string[] = CREDENTIAL_FIELDS): string[] {
  const problems = Object.keys(credential)
    .filter((field) => !fields.includes(field))
    .map((field) => `${label} has no field ${JSON.stringify(field)} here (known: ${fields.join(", ")}; a secret is given by its complete ARN, secretArn)`);
  const { secretArn, ssmParameter } = credential;
  if (secretArn !== undefined && (typeof secretArn !== "string" || !SECRET_ARN.test(secretArn))) {
    problems.push(`${label}.secretArn must be a secret's complete ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), not ${JSON.stringify(secretArn)}`);
  }
  if (ssmParameter !== undefined && (typeof ssmParameter !== "string" || !PARAMETER_NAME.test(ssmParameter))) {
    problems.push(`${label}.ssmParameter must be a parameter's name (letters, digits, _ . - /; not its ARN), not ${JSON.stringify(ssmParameter)}`);
  }
  return problems;
}

/** The problems of an entry's secrets in context: its credential's, and its token exchange's secret or key. */
function entrySecretProblems(entry: unknown, index: number): string[] {
  if (!isObject(entry)) return [];
  const label = entryLabel(index, entry.name);
  const problems = isObject(entry.credential) ? credentialProblems(entry.credential, `${label}.credential`) : [];
  const exchange = entry.tokenExchange;
  if (!isObject(exchange)) return problems;
  for (const [field, fields] of Object.entries(EXCHANGE_STORE_FIELDS)) {
    const store = exchange[field];
    if (isObject(store)) problems.push(...credentialProblems(store, `${label}.tokenExchange.${field}`, fields));
  }
  return problems;
}

/** A secret's place as the function reads it: the ARN as its id. */
function storeOf(store: unknown): unknown {
  if (!isObject(store) || !("secretArn" in store)) return store;
  const { secretArn, ...rest } = store;
  return { ...rest, secretId: secretArn };
}

/** An entry as the function reads it: each secret's ARN as its id. */
function entryOf(entry: unknown): unknown {
  if (!isObject(entry)) return entry;
  const exchange = entry.tokenExchange;
  return {
    ...entry,
    ...(isObject(entry.credential) ? { credential: storeOf(entry.credential) } : {}),
    ...(isObject(exchange)
      ? { tokenExchange: { ...exchange, ...(exchange.clientSecret ? { clientSecret: storeOf(exchange.clientSecret) } : {}), ...(exchange.privateKey ? { privateKey: storeOf(exchange.privateKey) } : {}) } }
      : {}),
  };
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
    ...list.flatMap((entry: unknown, index) => entrySecretProblems(entry, index)),
    ...entriesLoopbackProblems(list),
  ];
  return { settings: list as BackendSetting[], environment: { MCP_BACKENDS: JSON.stringify(list.map(entryOf)) }, problems };
}

/** The construct's servers for these (checked) settings, each secret or parameter imported. */
export function backendServers(scope: Construct, settings: readonly BackendSetting[]): BackendServer[] {
  const credentialOf = (credential: BackendSettingCredential, id: string): BackendCredential =>
    "secretArn" in credential
      ? { header: credential.header, secret: secretsmanager.Secret.fromSecretCompleteArn(scope, id, credential.secretArn) }
      : { header: credential.header, parameter: ssm.StringParameter.fromSecureStringParameterAttributes(scope, id, { parameterName: credential.ssmParameter }) };
  const storeOfSetting = (store: BackendSettingStore, id: string): ValueStore =>
    store.secretArn !== undefined
      ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, store.secretArn)
      : ssm.StringParameter.fromSecureStringParameterAttributes(scope, id, { parameterName: store.ssmParameter as string });
  const exchangeOf = ({ clientSecret, privateKey, timeoutMs, ...exchange }: BackendSettingTokenExchange, index: number): BackendServer["tokenExchange"] => ({
    ...exchange,
    clientSecret: clientSecret && storeOfSetting(clientSecret, `BackendExchangeSecret${index}`),
    clientSecretMethod: clientSecret?.method,
    privateKey: privateKey && storeOfSetting(privateKey, `BackendExchangeKey${index}`),
    timeout: timeoutMs === undefined ? undefined : Duration.millis(timeoutMs),
  });
  return settings.map(({ name, url, timeoutMs, credential, identityHeaders, token, tokenExchange }, index) => ({
    name,
    url,
    timeout: timeoutMs === undefined ? undefined : Duration.millis(timeoutMs),
    credential: credential && credentialOf(credential, `BackendCredential${index}`),
    identityHeaders,
    token: token && { header: token.header, audience: token.audience, claims: token.claims, ttl: token.ttlSeconds === undefined ? undefined : Duration.seconds(token.ttlSeconds) },
    tokenExchange: tokenExchange && exchangeOf(tokenExchange, index),
  }));
}
