/**
 * A failed fetch in words. Node's fetch rejects with `TypeError: fetch failed` and keeps the reason in its `cause`
 * (`connect ECONNREFUSED 127.0.0.1:8080`, `getaddrinfo ENOTFOUND idp.example`); a message without it says nothing an
 * operator can act on. An AggregateError cause (one attempt per address of a name) gives each attempt's reason.
 */
export function describeFetchFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const reasons: string[] = [];
  for (let cause: unknown = err.cause; cause instanceof Error && reasons.length < 5; cause = cause.cause) {
    const attempts = cause instanceof AggregateError ? cause.errors.filter((e): e is Error => e instanceof Error).map((e) => e.message) : [];
    const reason = attempts.length > 0 ? attempts.join("; ") : cause.message || (cause as { code?: string }).code;
    if (reason && !reasons.includes(reason) && reason !== err.message) reasons.push(reason);
  }
  return [err.message, ...reasons].join(": ");
}
