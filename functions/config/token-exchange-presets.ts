/**
 * What each identity provider needs of a token exchange, where it differs from the plain grant: the flavour of grant it
 * speaks, how the client secret is sent, and which request parameters it insists on. A server's `tokenExchange.idp`
 * picks one; every default can still be overridden in the entry itself.
 */

/** RFC 8693 token exchange, or Microsoft Entra ID's on-behalf-of grant (RFC 7523 jwt-bearer with `requested_token_use`). */
export type ExchangeFlavor = "rfc8693" | "entra-obo";

/** How the client secret reaches the token endpoint (RFC 6749 §2.3.1): HTTP Basic, or in the form body. */
export type ClientSecretMethod = "client_secret_basic" | "client_secret_post";

export const IDP_PRESETS = ["entra", "okta", "keycloak", "auth0", "cognito"] as const;
export type IdpPreset = (typeof IDP_PRESETS)[number];

/** The RFC 8693 type of the caller's token, which is an access token for the gateway. */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

export interface ExchangePreset {
  flavor: ExchangeFlavor;
  /** Default client secret method. */
  secretMethod: ClientSecretMethod;
  /** Parameters the provider refuses an exchange without: checked at start, so a missing one is a configuration error. */
  requires: ReadonlyArray<"audience" | "scope">;
  /** Default `requested_token_type`; undefined sends none (the provider's default, an access token). */
  requestedTokenType: string | undefined;
}

/** The grant as RFC 8693 has it, when no provider is named. */
export const RFC8693_DEFAULTS: ExchangePreset = { flavor: "rfc8693", secretMethod: "client_secret_basic", requires: [], requestedTokenType: undefined };

export const PRESETS: Readonly<Record<IdpPreset, ExchangePreset>> = {
  /**
   * Entra ID speaks on-behalf-of only: the downstream API is named in `scope` (`api://<app-id>/.default` or its
   * delegated permissions); its examples send the secret in the body.
   */
  entra: { flavor: "entra-obo", secretMethod: "client_secret_post", requires: ["scope"], requestedTokenType: undefined },
  /**
   * Okta (custom authorization server, a service app with the Token Exchange grant): `audience` is the target
   * authorization server's audience and `scope` is required; the issued token is an access token.
   */
  okta: { flavor: "rfc8693", secretMethod: "client_secret_basic", requires: ["audience", "scope"], requestedTokenType: ACCESS_TOKEN_TYPE },
  /**
   * Keycloak 26 standard token exchange: `audience` is the target client's client id (without it the token is for
   * the gateway's own client); `requested_token_type` defaults to an access token there too, sent explicitly.
   */
  keycloak: { flavor: "rfc8693", secretMethod: "client_secret_basic", requires: ["audience"], requestedTokenType: ACCESS_TOKEN_TYPE },
  /** Auth0 on-behalf-of token exchange: `audience` is the downstream API's identifier. */
  auth0: { flavor: "rfc8693", secretMethod: "client_secret_post", requires: ["audience"], requestedTokenType: undefined },
  /** Amazon Cognito (user pool token endpoint `/oauth2/token`, an app client with a secret): one audience per token. */
  cognito: { flavor: "rfc8693", secretMethod: "client_secret_basic", requires: ["audience"], requestedTokenType: undefined },
};
