/**
 * The CDK app: `npx cdk deploy -c issuer=... -c audience=... -c backendUrl=...` (or, for several backend servers,
 * `-c backends='[{"name":"github","url":"https://..."}, ...]'`).
 * Settings are validated before anything is built: an unknown, missing or malformed one stops synth with its name.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../functions/errors.js";
import { refuseUnknownContextKeys } from "../lib/context-keys.js";
import { deploymentOptionsFromContext, needsRegion } from "../lib/deployment-options.js";
import { settingsFromContext } from "../lib/gateway-settings.js";
import { GatewayStack } from "../lib/gateway-stack.js";

/** CloudFormation's rule for stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

const app = new App();
try {
  refuseUnknownContextKeys(app.node.getAllContext());
  const stackName = String(app.node.tryGetContext("stackName") ?? "McpSsoGateway");
  if (!STACK_NAME.test(stackName)) {
    throw new ConfigError([`'stackName' must start with a letter and hold only letters, digits and hyphens (at most 128), not ${JSON.stringify(stackName)}`]);
  }
  const context = (key: string) => app.node.tryGetContext(key) as unknown;
  const settings = settingsFromContext(context, stackName);
  const deployment = deploymentOptionsFromContext(context, settings.frontDoor);
  // Environment-agnostic where it can be (the template works in any account and region), else the CLI's account and
  // region (from the AWS profile or AWS_REGION), which the custom domain's edge function needs.
  const env = needsRegion(deployment) ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined;
  if (env && !env.region) {
    throw new ConfigError(["'domainName' needs the target region known at synth (CloudFront's edge function is placed from it): set AWS_REGION or a profile with a region"]);
  }
  new GatewayStack(app, stackName, { settings, deployment, env });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
