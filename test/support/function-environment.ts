/**
 * Sets the environment a Lambda entry module reads when it is imported: the variables given, and every common gateway
 * variable not given left unset (so the developer's own shell cannot leak in). Returns a function that restores what
 * was there.
 */
const GATEWAY_VARIABLES = [
  "MCP_BACKEND_URL", "MCP_BACKENDS", "MCP_BACKEND_NAME", "JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URI", "POLICY_FILE", "POLICY_SSM_PATH", "PUBLIC_URL",
  "MCP_PATH", "AUTHORIZATION_SERVERS", "BACKEND_CREDENTIAL_HEADER", "BACKEND_CREDENTIAL_SSM_PARAMETER",
  "BACKEND_CREDENTIAL_SECRET_ID", "SESSION_KEY_SSM_PARAMETER", "SESSION_KEY_SECRET_ID", "EDGE_SECRET_HEADER",
  "EDGE_SECRET_SSM_PARAMETER", "EDGE_SECRET_SECRET_ID",
];

export function setFunctionEnvironment(env: Record<string, string | undefined>): () => void {
  const names = [...new Set([...GATEWAY_VARIABLES, ...Object.keys(env)])];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
