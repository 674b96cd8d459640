/**
 * The "Targets not met" section of docs/performance.md: why each missed target is missed, and what would close it.
 * Written by hand (the reasons do not change from run to run); the figures it refers to are in the tables above it.
 */
export const GAPS = `## Targets not met, and why

- **Gateway CPU per request (target 100 us) and the warm p50 ratio (target 1.10).** The profile above shows where the
  time goes: about half is Node's own web objects and the second HTTP hop (undici \`fetch\`, web streams, \`Request\`,
  \`Response\`, \`Headers\`, async context), about a tenth is Powertools and middy per invocation (\`getStringFromEnv\`
  reads the environment on every call), and the gateway's own modules take 10-15 us each. Token verification is
  gone from the warm path (the verified-token cache), and so is per-item rule evaluation (the rule index). Reaching
  100 us would mean a Lambda adapter that does not build web-standard \`Request\`/\`Response\` objects and a backend
  client lighter than \`fetch\`: both go against the design (one web-standard core, thin adapters), so they were not
  done. On Node 22 (the Lambda runtime) the same code costs 25-30% less than on Node 20.
- **Bundle without the AWS SDK (target 250 KB).** What remains is the CEL engine (about 83 KB, no smaller entry
  point), the YAML parser (about 45 KB; js-yaml is the smallest maintained full parser), zod/mini with its English
  messages (about 29 KB), Powertools logger and metrics (about 34 KB), aws-jwt-verify and jose (about 31 KB) and the
  gateway's own code (about 53 KB). Going under 250 KB would mean hand-writing one of these libraries.
- **Init against the SSM-only module (target 1.3).** The gateway statically loads two SDK clients (SSM for the policy,
  Secrets Manager for the session key): the two clients alone already cost 1.1-1.2 times the SSM-only module. On top
  come evaluating the bundle, the first \`fetch\` loading undici, the first policy compile and source-map support.
  Reading the session key through SSM's \`/aws/reference/secretsmanager/\` path would drop the second client; it was
  not done because its IAM behaviour cannot be verified without an AWS account.
- **Filtering a 1,000-tool list against 200 rules (target 2 ms).** The figure covers the whole list: \`JSON.parse\` of
  the backend's answer alone is about 1.5 ms of it (stated in the row), and re-serialising the filtered list another
  share. Judging the 1,000 tools against 200 rules takes under 1 ms.
`;
