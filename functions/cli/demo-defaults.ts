/** The walkthrough's fixed names, shared by `demo` and `token`. */
export const DEMO_ISSUER = "acme@example.com";
export const DEMO_AUDIENCE = "mcp.example.com";
/** Where `demo` keeps the demo identity provider's private key, relative to the working directory. */
export const DEMO_KEY_PATH = ".demo/signing-key.json";
/** Where `demo` keeps the clients registered with its identity provider, relative to the working directory. */
export const DEMO_CLIENTS_PATH = ".demo/clients.json";
/**
 * The environment variable naming the demo identity provider's port, read by `demo` (where it listens) and `token`
 * (where it asks which key the demo serves); `0` lets `demo` pick a free one. Default DEMO_IDP_PORT.
 */
export const IDP_PORT_VARIABLE = "IDP_PORT";
/** The demo identity provider's port unless IDP_PORT says otherwise: fixed, so its issuer URL is the same every run. */
export const DEMO_IDP_PORT = 9100;
/** The scope MCP clients ask the demo identity provider for, to use the gateway; the gateway publishes and requires it. */
export const DEMO_SCOPE = "mcp";
