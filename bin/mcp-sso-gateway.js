#!/usr/bin/env node
// The `mcp-sso-gateway` command. The project is TypeScript run as is (through tsx), so no build step is needed.
import { register } from "tsx/esm/api";

register();
await import("../functions/cli/main.ts");
