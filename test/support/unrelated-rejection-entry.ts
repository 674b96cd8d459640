/**
 * A streaming Lambda entry point whose gateway answers every request and leaves a promise rejection of its own
 * unhandled. It shows that the streaming adapter's tolerance of the runtime's broken-connection rejections
 * (functions/adapters/lambda-streaming.ts) covers those alone: any other unhandled rejection still ends the process,
 * as Node.js ends it without the adapter. The rejection's message is the function's FAILURE_MESSAGE variable.
 */
import { createStreamingLambdaHandler } from "../../functions/adapters/lambda-streaming.js";
import type { Gateway } from "../../functions/core/gateway.js";

const gateway: Gateway = {
  async fetch() {
    void Promise.reject(new Error(process.env.FAILURE_MESSAGE));
    return new Response("answered");
  },
  refuseUntranslatable: () => new Response(null, { status: 400 }),
  warmUp: async () => undefined,
};

export const handler = createStreamingLambdaHandler(gateway);
