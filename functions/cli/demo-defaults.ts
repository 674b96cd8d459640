/** The walkthrough's fixed names, shared by `demo` and `token`. */
export const DEMO_ISSUER = "acme@example.com";
export const DEMO_AUDIENCE = "mcp.example.com";
/** Where `demo` keeps the demo identity provider's private key, relative to the working directory. */
export const DEMO_KEY_PATH = ".demo/signing-key.json";
