/**
 * A proxy that does to the 401 challenge what API Gateway does to a Lambda proxy's response headers: it renames
 * `WWW-Authenticate` to `x-amzn-Remapped-WWW-Authenticate` (documented for REST APIs, reported for HTTP APIs:
 * anthropics/claude-ai-mcp issue 748), and passes everything else through as it came, the Host header included (so the
 * gateway behind it names the proxy's URL as the resource, as it names the front door's on AWS). Bodies stream.
 */
import type { IncomingHttpHeaders } from "node:http";
import { startRewritingProxy, type RewritingProxy } from "./rewriting-proxy.js";

export type RenamingProxy = RewritingProxy;

/** Response headers (names in lower case) as API Gateway passes a Lambda proxy's on: WWW-Authenticate renamed. */
export function remapChallenge<T extends IncomingHttpHeaders | Record<string, string>>(headers: T): T {
  const { "www-authenticate": challenge, ...rest } = headers;
  return (challenge === undefined ? rest : { ...rest, "x-amzn-Remapped-WWW-Authenticate": challenge }) as T;
}

/** @param target the origin requests are passed to. */
export function startRenamingProxy(target: string): Promise<RenamingProxy> {
  return startRewritingProxy(target, async (answer) => ({ status: answer.statusCode ?? 502, headers: remapChallenge(answer.headers) }));
}
