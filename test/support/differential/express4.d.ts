/** The little of express 4 (installed as `express4`, an alias of express@4, which ships no types) the tests use. */
declare module "express4" {
  import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

  type Request = IncomingMessage & { body?: unknown };
  type Middleware = (req: Request, res: ServerResponse, next: (error?: unknown) => void) => void;
  interface Application extends RequestListener {
    use(middleware: Middleware): Application;
    post(path: string, handler: (req: Request, res: ServerResponse) => void): Application;
  }
  interface Express {
    (): Application;
    json(options?: { limit?: string | number; strict?: boolean }): Middleware;
  }
  const express: Express;
  export default express;
}
