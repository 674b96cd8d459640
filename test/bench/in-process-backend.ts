/**
 * The gateway's own compute, with no socket in the way: while `work` runs, the global fetch answers requests to the
 * backend URL in-process with a canned answer (a real one the backend gave), and passes anything else on. The
 * gateway reaches its backend with the global fetch (functions/proxy/upstream.ts); `intercepted` counts the requests
 * answered here, so a change of that is seen (the figure is then not reported).
 */
export async function withBackendInProcess<T>(backendUrl: string, answer: string, work: () => Promise<T>): Promise<{ value: T; intercepted: number }> {
  const realFetch = globalThis.fetch;
  let intercepted = 0;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== backendUrl) return realFetch(input, init);
    intercepted++;
    return new Response(answer, { status: 200, headers: { "content-type": "application/json" } });
  };
  try {
    return { value: await work(), intercepted };
  } finally {
    globalThis.fetch = realFetch;
  }
}
