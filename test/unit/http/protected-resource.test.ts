import { describe, expect, it } from "vitest";
import {
  METADATA_PATH,
  isMetadataPath,
  metadataUrl,
  protectedResourceMetadata,
  resourceUrl,
} from "../../../functions/http/protected-resource.js";

const requestUrl = new URL("http://127.0.0.1:8787/mcp?session=1");
const fromRequest = { publicUrl: undefined, mcpPath: "/mcp", authorizationServers: [] as string[] };
const behindProxy = { publicUrl: new URL("https://mcp.example.com/"), mcpPath: "/mcp", authorizationServers: ["https://idp.example.com"] };

describe("protected resource metadata (RFC 9728)", () => {
  it("takes the resource URL from the request's origin when PUBLIC_URL is not set", () => {
    expect(resourceUrl(fromRequest, requestUrl)).toBe("http://127.0.0.1:8787/mcp");
    expect(metadataUrl(fromRequest, requestUrl)).toBe("http://127.0.0.1:8787/.well-known/oauth-protected-resource/mcp");
  });

  it("prefers PUBLIC_URL, without doubling its trailing slash", () => {
    expect(resourceUrl(behindProxy, requestUrl)).toBe("https://mcp.example.com/mcp");
    expect(metadataUrl(behindProxy, requestUrl)).toBe("https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
  });

  it("inserts the well-known prefix before the resource path", () => {
    const config = { publicUrl: undefined, mcpPath: "/v1/mcp" };
    expect(metadataUrl(config, requestUrl)).toBe(`http://127.0.0.1:8787${METADATA_PATH}/v1/mcp`);
  });

  it("answers the metadata at the bare and the path-suffixed well-known URL only", () => {
    expect(isMetadataPath(fromRequest, METADATA_PATH)).toBe(true);
    expect(isMetadataPath(fromRequest, `${METADATA_PATH}/mcp`)).toBe(true);
    expect(isMetadataPath(fromRequest, `${METADATA_PATH}/other`)).toBe(false);
    expect(isMetadataPath(fromRequest, "/mcp")).toBe(false);
  });

  it("lists authorization servers only when there are some", () => {
    expect(protectedResourceMetadata({ ...behindProxy, scopesSupported: [] }, requestUrl)).toEqual({
      resource: "https://mcp.example.com/mcp",
      authorization_servers: ["https://idp.example.com"],
      bearer_methods_supported: ["header"],
    });
    expect(protectedResourceMetadata({ ...fromRequest, scopesSupported: [] }, requestUrl)).toEqual({
      resource: "http://127.0.0.1:8787/mcp",
      bearer_methods_supported: ["header"],
    });
  });

  it("lists the scopes clients should ask for, when there are some", () => {
    expect(protectedResourceMetadata({ ...fromRequest, scopesSupported: ["mcp.tools", "openid"] }, requestUrl)).toEqual({
      resource: "http://127.0.0.1:8787/mcp",
      scopes_supported: ["mcp.tools", "openid"],
      bearer_methods_supported: ["header"],
    });
  });
});
