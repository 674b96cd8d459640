/** Reads a value the gateway keeps in AWS: an SSM parameter (SecureString, decrypted) or a Secrets Manager secret. */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { SecretSource } from "../config/gateway-config.js";

export function describeSecret(source: SecretSource): string {
  return source.kind === "ssm" ? `SSM parameter ${source.name}` : `secret ${source.secretId}`;
}

export async function readSecret(source: SecretSource): Promise<string> {
  if (source.kind === "ssm") {
    const { Parameter } = await new SSMClient({}).send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
    if (!Parameter?.Value) throw new Error(`${describeSecret(source)} has no value`);
    return Parameter.Value;
  }
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: source.secretId }));
  if (!SecretString) throw new Error(`${describeSecret(source)} has no string value`);
  return SecretString;
}
