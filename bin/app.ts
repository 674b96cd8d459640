/**
 * The CDK app: `npx cdk deploy -c issuer=... -c audience=... -c jwksUri=... -c backendUrl=...`.
 * Settings are validated before anything is built; a missing or malformed one stops synth with its name.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../functions/errors.js";
import { settingsFromContext } from "../lib/gateway-settings.js";
import { GatewayStack } from "../lib/gateway-stack.js";

const app = new App();
const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? "McpSsoGateway";
try {
  const settings = settingsFromContext((key) => app.node.tryGetContext(key), stackName);
  // Environment-agnostic: the template works in any account and region it is deployed to.
  new GatewayStack(app, stackName, { settings });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
