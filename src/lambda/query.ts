// placeholder; the real entry comes from the ddb branch at merge.
// It lets the CDK app (infra/) bundle and synthesize this function today, and
// fails closed: every call is answered 503 without touching any data.

interface PlaceholderResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export async function handler(event: unknown): Promise<PlaceholderResult> {
  const ctx = (event as { requestContext?: { requestId?: unknown } } | null)?.requestContext;
  const requestId = typeof ctx?.requestId === 'string' ? ctx.requestId : '';
  return {
    statusCode: 503,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      code: 'store_unavailable',
      message: 'this function is not deployed yet',
      requestId,
    }),
  };
}
