/**
 * A port that must be known before its server listens: the demo's gateway, whose MCP URL is the audience of the
 * tokens the demo identity provider issues, and so part of the configuration both start with. Port 0 ("any free
 * port") becomes one that was free a moment ago.
 */
import { createServer } from "node:net";

export function knownPort(port: number, hostname: string): Promise<number> {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, hostname, () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error(`no free port on ${hostname}`))));
    });
  });
}
