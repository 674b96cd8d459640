/** Synthesis of the gateway's stack in the test process, as `cdk synth` builds it, for template assertions and linting. */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { needsRegion, type DeploymentOptions } from "../../lib/deployment-options.js";
import type { FrontDoor, GatewaySettings } from "../../lib/gateway-settings.js";
import { GatewayStack, type GatewayStackProps } from "../../lib/gateway-stack.js";
import { McpSsoGateway, type McpSsoGatewayProps } from "../../lib/mcp-sso-gateway.js";

export const FRONT_DOORS_UNDER_TEST = ["functionUrl", "httpApi", "restStreaming"] as const satisfies readonly FrontDoor[];

export const SETTINGS: Omit<GatewaySettings, "frontDoor" | "backends"> = {
  issuer: "https://login.microsoftonline.com/tenant-id/v2.0",
  audience: ["api://mcp-gateway", "11111111-2222-3333-4444-555555555555"],
  jwksUri: "https://login.microsoftonline.com/tenant-id/discovery/v2.0/keys",
  backendUrl: "https://mcp.internal.example.com/mcp",
  policyPath: "/mcp-sso-gateway/Test/policies",
  rolesClaim: "roles",
};

export interface Synthesized {
  app: App;
  stack: Stack;
  template: Template;
}

/** Where a stack that needs a region (a custom domain's edge function) is deployed in these tests. */
export const TEST_ENV = { account: "111122223333", region: "eu-west-1" };

/** The ready-made stack, as bin/app.ts makes it from context (with a region where the stack needs one, as there). */
export function synthStack(frontDoor: FrontDoor, deployment: DeploymentOptions = {}, gateway?: GatewayStackProps["gateway"], id = `Test-${frontDoor}`): Synthesized {
  return synthSettings({ ...SETTINGS, frontDoor }, deployment, gateway, id);
}

/** The ready-made stack with settings of the test's own (several backend servers...). */
export function synthSettings(settings: GatewaySettings, deployment: DeploymentOptions = {}, gateway?: GatewayStackProps["gateway"], id = `Test-${settings.frontDoor}`): Synthesized {
  const app = new App();
  const env = needsRegion(deployment) ? TEST_ENV : undefined;
  const stack = new GatewayStack(app, id, { settings, deployment, gateway, env });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The construct in a stack of the user's own, with options that need that stack (a VPC, secrets, keys). */
export function synthConstruct(frontDoor: FrontDoor, configure: (stack: Stack) => Partial<McpSsoGatewayProps>): Synthesized {
  const app = new App();
  const stack = new Stack(app, "Options", { env: { account: "111122223333", region: "eu-west-1" } });
  new McpSsoGateway(stack, "Gateway", { ...SETTINGS, frontDoor, ...configure(stack) });
  return { app, stack, template: Template.fromStack(stack) };
}

/** A CloudFormation string (joins, refs, attributes, selects) written out, each Ref as {its logical id, without hash}. */
export function readable(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  const name = (id: string) => id.replace(/^Gateway/, "").replace(/[0-9A-F]{8}$/, "");
  if (v["Fn::Join"]) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(readable).join(separator);
  }
  if (typeof v.Ref === "string") return `{${name(v.Ref)}}`;
  if (v["Fn::GetAtt"]) {
    const [id, attribute] = v["Fn::GetAtt"] as [string, string];
    return `{${name(id)}.${attribute}}`;
  }
  if (v["Fn::Select"]) {
    const [index, list] = v["Fn::Select"] as [number, unknown];
    return `{${readable(list)}[${index}]}`;
  }
  if (v["Fn::Split"]) {
    const [separator, source] = v["Fn::Split"] as [string, unknown];
    return `${readable(source)}.split(${JSON.stringify(separator)})`;
  }
  return JSON.stringify(value);
}

/** Every statement of every IAM policy in the template. */
export function policyStatements(template: Template): Array<{ Action: unknown; Resource: unknown; Effect: string }> {
  return Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown; Effect: string }> } } }).Properties.PolicyDocument.Statement,
  );
}

/** The function's environment variables. */
export function functionVariables(template: Template): Record<string, unknown> {
  const fn = Object.values(template.findResources("AWS::Lambda::Function"))[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  return fn.Properties.Environment.Variables;
}
