/**
 * The logging interface the core writes to. Adapters pass a Powertools Logger (structured JSON, one object per line)
 * or anything with the same three methods; the core never decides where lines go.
 */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
