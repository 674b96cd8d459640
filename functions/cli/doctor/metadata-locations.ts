/**
 * The URLs at which MCP clients look for an endpoint's RFC 9728 metadata, in the order MCP 2025-11-25
 * (`basic/authorization`, Protected Resource Metadata Discovery Requirements) has them tried: the challenge's
 * `resource_metadata` URL when there is one; otherwise the well-known URI with the endpoint's path (RFC 9728 §3.1:
 * `/.well-known/oauth-protected-resource` inserted between host and path); then the one at the host root.
 * MCP 2025-06-18 has clients use the challenge's URL. One URL playing several parts is checked once.
 */

export type MetadataRole = "challenge" | "path" | "root";

export interface MetadataLocation {
  url: URL;
  /** The parts this URL plays in discovery, in discovery order. */
  roles: MetadataRole[];
}

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

export const ROLE_NAMES: Record<MetadataRole, string> = {
  challenge: "the challenge's resource_metadata URL",
  path: "the well-known URI with the endpoint's path",
  root: "the well-known URI at the host root",
};

/**
 * @param endpoint the MCP endpoint as clients are given it.
 * @param challengeUrl the metadata URL the challenge named, under whichever header it came.
 */
export function metadataLocations(endpoint: URL, challengeUrl: URL | undefined): MetadataLocation[] {
  const path = endpoint.pathname.replace(/\/+$/, "");
  const candidates: [MetadataRole, URL][] = [
    ...(challengeUrl ? [["challenge", challengeUrl] as [MetadataRole, URL]] : []),
    ["path", new URL(`${WELL_KNOWN}${path}`, endpoint.origin)],
    ["root", new URL(WELL_KNOWN, endpoint.origin)],
  ];
  const locations: MetadataLocation[] = [];
  for (const [role, url] of candidates) {
    const same = locations.find((location) => location.url.href === url.href);
    if (same) same.roles.push(role);
    else locations.push({ url, roles: [role] });
  }
  return locations;
}
