/**
 * How the gateway's Lambda function is built and started: the esbuild options NodejsFunction bundles it with, and the
 * NODE_OPTIONS it runs with. Kept here, apart from the construct (lib/mcp-sso-gateway.ts), so the tests that run the
 * deployed bundle under AWS's own runtime client (test/support/function-bundle.ts) build exactly what is deployed.
 */
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";

export const FUNCTION_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: "node22",
  minify: true,
  sourceMap: true,
  // Minified class names would otherwise reach the logs: the runtime's "Init Error" line names an error by its
  // constructor (a ConfigError read as `Cn`), and so do the gateway's own error names taken from `new.target`.
  keepNames: true,
  mainFields: ["module", "main"],
  // Some dependencies are CommonJS and call require(); ESM bundles need it defined.
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
} satisfies nodejs.BundlingOptions;

/** Stack traces in the function's logs point into the TypeScript sources (the bundle carries its source map). */
export const FUNCTION_NODE_OPTIONS = "--enable-source-maps";
