/** Where the gateway keeps a value of its own in AWS (a credential, a signing key, the session key). */
export type SecretSource =
  /** `..._SSM_PARAMETER`: an SSM parameter (SecureString, decrypted). */
  | { kind: "ssm"; name: string }
  /** `..._SECRET_ID`: a Secrets Manager secret (its SecretString), by name or ARN. */
  | { kind: "secretsmanager"; secretId: string };
