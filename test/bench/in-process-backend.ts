/**
 * The gateway's own compute, with no socket in the way: while `work` runs, connections to the backend's host and port
 * are in-memory streams that answer every request with a canned answer (a real one the backend gave), as HTTP/1.1
 * bytes, kept alive. The gateway reaches its backend with node:http (functions/proxy/backend-client.ts), so its own
 * request writing and answer parsing are measured, the kernel's sockets not; `intercepted` counts the requests
 * answered here, so a change of client is seen (the figure is then not reported).
 */
import http from "node:http";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";

/** A connection that reads one request after another and answers each with `response`. */
class CannedConnection extends Duplex {
  private pending = Buffer.alloc(0);

  constructor(
    private readonly response: Buffer,
    private readonly answered: () => void,
  ) {
    super();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const headEnd = this.pending.indexOf("\r\n\r\n");
      if (headEnd < 0) break;
      const head = this.pending.subarray(0, headEnd).toString("latin1");
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
      const end = headEnd + 4 + length;
      if (this.pending.length < end) break;
      this.pending = this.pending.subarray(end);
      this.answered();
      this.push(this.response);
    }
    done();
  }

  // What node:http asks of a socket besides reading and writing.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

export async function withBackendInProcess<T>(backendUrl: string, answer: string, work: () => Promise<T>): Promise<{ value: T; intercepted: number }> {
  const target = new URL(backendUrl);
  const body = Buffer.from(answer);
  const response = Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n`, "latin1"),
    body,
  ]);
  let intercepted = 0;
  const opened: CannedConnection[] = [];
  // An agent of its own: the client's agent may hold kept-alive connections to the real backend, which must not be
  // what answers here.
  const canned = new http.Agent({ keepAlive: true });
  (canned as unknown as { createConnection: () => Socket }).createConnection = () => {
    const connection = new CannedConnection(response, () => intercepted++);
    opened.push(connection);
    return connection as unknown as Socket;
  };
  const realRequest = http.request;
  const toBackend = (url: unknown) => url instanceof URL && url.origin === target.origin;
  (http as unknown as { request: unknown }).request = (url: unknown, options?: http.RequestOptions, callback?: () => void) =>
    toBackend(url) ? realRequest(url as URL, { ...options, agent: canned }, callback) : realRequest(url as URL, options ?? {}, callback);
  try {
    return { value: await work(), intercepted };
  } finally {
    (http as unknown as { request: unknown }).request = realRequest;
    // Kept-alive canned connections must not answer anyone after this.
    for (const connection of opened) connection.destroy();
    canned.destroy();
  }
}
