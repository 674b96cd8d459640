/** Whether a host name is this machine only (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || /^127(\.\d{1,3}){3}$/.test(host) || host === "[::1]" || host === "::1";
}

/** Whether a URL points at this machine only: plain http is tolerated there alone. */
export function isLoopbackUrl(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}

/** Host names of this machine: what a local server listening on a loopback address answers to by default. */
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/**
 * A local server listening on a loopback address answers to this machine's names only, unless ALLOWED_HOSTS says
 * otherwise: a web page that points its own domain at 127.0.0.1 (DNS rebinding) is refused.
 */
export function withLoopbackHostDefault<T extends { allowedHosts: string[] | undefined }>(config: T, listenHostname: string): T {
  if (config.allowedHosts !== undefined || !isLoopbackHost(listenHostname)) return config;
  return { ...config, allowedHosts: LOOPBACK_HOSTS };
}
