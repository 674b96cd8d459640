/**
 * The aggregated endpoint's answer to `initialize` (and to `server/discover`, 2026-07-28) from each server's, pure.
 *
 * - Protocol version (initialize): the client's when any server agreed to it, else the first answering server's.
 *   Each server keeps the version it agreed; the gateway sends each its own (`Mcp-Protocol-Version`).
 * - Supported versions (discover): those every answering server supports, in the first one's order.
 * - Capabilities: the union (a kind is offered when any server offers it; `listChanged` and `subscribe` when any
 *   server has them); tasks are never offered, as on every endpoint (mcp/result-hints.ts).
 * - Instructions: each server's, under its name and the prefix its tools and prompts carry.
 * - Server info: the gateway's own.
 * A server that did not answer costs only its own part; when none answered there is nothing to merge.
 */
import { prefixedName } from "./prefixed-names.js";
import type { ServerPage } from "./merge-lists.js";

/** The gateway's server info on the aggregated endpoint. */
export const GATEWAY_SERVER_INFO = { name: "mcp-sso-gateway", version: "1" } as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Capabilities = Record<string, Record<string, unknown>>;

/** Capabilities offered by any server; flags true when any server's are. */
function mergeCapabilities(all: readonly unknown[]): Capabilities {
  const merged: Capabilities = {};
  for (const capabilities of all) {
    if (!isObject(capabilities)) continue;
    for (const [kind, value] of Object.entries(capabilities)) {
      if (kind === "tasks" || kind === "experimental" || kind === "extensions" || !isObject(value)) continue;
      const into = (merged[kind] ??= {});
      for (const [flag, on] of Object.entries(value)) if (on === true) into[flag] = true;
    }
  }
  return merged;
}

function mergeInstructions(answered: ReadonlyArray<{ server: string; result: Record<string, unknown> }>): string | undefined {
  const parts = answered.flatMap(({ server, result }) =>
    typeof result.instructions === "string" && result.instructions.trim() !== ""
      ? [`Server "${server}" (its tools and prompts are named ${prefixedName(server, "<name>")}):\n${result.instructions.trim()}`]
      : [],
  );
  return parts.length > 0 ? parts.join("\n\n") : undefined;
}

function answeredPages(pages: readonly ServerPage[]) {
  return pages.flatMap((page) => ("result" in page ? [page] : []));
}

/** The merged initialize result, or undefined when no server answered. */
export function mergeInitialize(requestedVersion: unknown, pages: readonly ServerPage[]): Record<string, unknown> | undefined {
  const answered = answeredPages(pages);
  if (answered.length === 0) return undefined;
  const versions = answered.map(({ result }) => result.protocolVersion);
  const protocolVersion = versions.includes(requestedVersion) ? requestedVersion : versions[0];
  const instructions = mergeInstructions(answered);
  return {
    protocolVersion,
    capabilities: mergeCapabilities(answered.map(({ result }) => result.capabilities)),
    serverInfo: GATEWAY_SERVER_INFO,
    ...(instructions ? { instructions } : {}),
  };
}

/** The merged server/discover result, or undefined when no server answered. */
export function mergeDiscover(pages: readonly ServerPage[]): Record<string, unknown> | undefined {
  const answered = answeredPages(pages);
  if (answered.length === 0) return undefined;
  const lists = answered.map(({ result }) => (Array.isArray(result.supportedVersions) ? (result.supportedVersions as unknown[]) : []));
  const supportedVersions = (lists[0] ?? []).filter((version) => lists.every((list) => list.includes(version)));
  const instructions = mergeInstructions(answered);
  return {
    supportedVersions,
    capabilities: mergeCapabilities(answered.map(({ result }) => result.capabilities)),
    ...(instructions ? { instructions } : {}),
    _meta: { "io.modelcontextprotocol/serverInfo": GATEWAY_SERVER_INFO },
  };
}
