// The error catalog (CSH 1.3): every error a client can see has a stable code,
// an HTTP status and a safe public message. Nothing internal, no record
// contents, no stack traces ever reach a response.

export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  invalid_date: 400,
  invalid_cursor: 400,
  duplicate_in_batch: 400,
  invalid_utf8: 400,
  xml_doctype_forbidden: 400,
  xml_malformed: 400,
  xml_wrong_root: 400,
  csv_malformed: 400,
  csv_missing_columns: 400,
  sarif_invalid: 400,
  cyclonedx_invalid: 400,
  trivy_invalid: 400,
  grype_invalid: 400,
  openvas_invalid: 400,
  zap_invalid: 400,
  dependency_check_invalid: 400,
  gitleaks_invalid: 400,
  semgrep_invalid: 400,
  nuclei_invalid: 400,
  scan_invalid: 400,
  scan_empty: 400,
  scan_target_missing: 400,
  idempotency_key_invalid: 400,
  csr_invalid: 400,
  csr_key_weak: 400,
  unauthenticated: 401,
  token_invalid: 401,
  token_expired: 401,
  token_issuer_unknown: 401,
  token_audience_invalid: 401,
  credentials_conflict: 401,
  credential_not_accepted: 401,
  enrollment_token_invalid: 401,
  certificate_identity_invalid: 403,
  csr_not_allowed: 403,
  forbidden: 403,
  ip_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  vuln_exists: 409,
  idempotency_in_progress: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_format: 415,
  idempotency_key_reused: 422,
  triage_too_many: 422,
  precondition_required: 428,
  rate_limited: 429,
  quota_exceeded: 429,
  headers_too_large: 431,
  policy_unavailable: 503,
  jwks_unavailable: 503,
  store_unavailable: 503,
  key_unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** Base error: what it says is safe to show the client. */
export class VaultError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
    this.code = code;
    this.statusCode = ERROR_STATUS[code];
  }
}

export function isVaultError(err: unknown): err is VaultError {
  return err instanceof VaultError;
}

/** Public body of an error response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
}
