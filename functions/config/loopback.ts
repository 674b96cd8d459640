/** Whether a URL points at this machine only (localhost, 127.0.0.0/8, [::1]): plain http is tolerated there alone. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === "localhost" || /^127(\.\d{1,3}){3}$/.test(host) || host === "[::1]";
}
