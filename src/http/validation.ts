// Request validation (CSH 1.1) compiled once from the contract's schemas.
// Bodies are validated strictly (no type coercion, unknown properties
// rejected, not dropped); query strings coerce scalars ("100" → 100) but an
// unknown or repeated parameter is still an error. Messages name the failing
// field and the rule in words ("must be an integer between 1 and 1000",
// "must be one of …"), and never echo the value sent.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { VaultError } from '../core/errors.js';

function newAjv(coerce: boolean): Ajv {
  return new Ajv({
    allErrors: false,
    verbose: true, // errors carry their schema: messages state the whole rule
    coerceTypes: coerce,
    removeAdditional: false,
    useDefaults: true,
    strict: false, // OpenAPI keywords (nullable, description, example) are allowed
  });
}

const bodyAjv = newAjv(false);
const queryAjv = newAjv(true);

export type HttpPart = 'body' | 'querystring' | 'params' | 'headers';

export function compileValidator(schema: object, part: HttpPart) {
  const validate: ValidateFunction = (part === 'body' ? bodyAjv : queryAjv).compile(schema);
  return (data: unknown): true | { error: VaultError } => {
    if (validate(data)) return true;
    return { error: new VaultError('validation_failed', describe(validate.errors ?? [], part)) };
  };
}

function fieldPath(part: HttpPart, instancePath: string): string {
  const label = part === 'querystring' ? 'query' : part;
  if (!instancePath) return label;
  const segs = instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (part === 'querystring' || part === 'params') return `${label} parameter '${segs.join('.')}'`;
  return label + segs.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');
}

/**
 * With oneOf (single record or array) ajv reports every branch's failure.
 * The most useful one is the deepest; at equal depth a type mismatch is less
 * specific than a constraint on the right type.
 */
function mostSpecific(errors: ErrorObject[]): ErrorObject | undefined {
  const candidates = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  const depth = (e: ErrorObject) => (e.instancePath ? e.instancePath.split('/').length : 0);
  return candidates.sort((a, b) => {
    const d = depth(b) - depth(a);
    if (d !== 0) return d;
    return Number(a.keyword === 'type') - Number(b.keyword === 'type');
  })[0];
}

export function clip(s: string): string {
  const safe = s.replace(/[^\x20-\x7e]/g, '?');
  return safe.length > 64 ? `${safe.slice(0, 64)}…` : safe;
}

export function describe(errors: ErrorObject[], part: HttpPart): string {
  const e = mostSpecific(errors) ?? errors[0];
  if (!e) return `${part} is invalid`;
  const where = fieldPath(part, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return part === 'querystring'
        ? `unknown query parameter '${clip(String(p.additionalProperty))}'`
        : `${where} has unknown property '${clip(String(p.additionalProperty))}'`;
    case 'required': {
      const missing = String(p.missingProperty);
      return part === 'querystring'
        ? `query parameter '${missing}' is required`
        : `${where} is missing required property '${missing}'`;
    }
    default: {
      const rule = part === 'querystring' || part === 'params' ? inWords(e) : undefined;
      return `${where} ${rule ?? e.message ?? 'is invalid'}`;
    }
  }
}

/** A parameter's whole rule, whichever part of it failed: what a caller needs to fix it. */
function inWords(e: ErrorObject): string | undefined {
  const s = (e.parentSchema ?? {}) as {
    type?: string;
    minimum?: number;
    maximum?: number;
    enum?: unknown[];
    minLength?: number;
    maxLength?: number;
    /** The contract's words for a rule a pattern cannot say well. */
    'x-vulnvault-rule'?: string;
  };
  if (s['x-vulnvault-rule'] !== undefined) return `must be ${s['x-vulnvault-rule']}`;
  const noun = s.type === 'integer' ? 'an integer' : s.type === 'number' ? 'a number' : undefined;
  if (s.enum) return `must be one of: ${s.enum.map(String).join(', ')}`;
  if (noun && (e.keyword === 'type' || e.keyword === 'minimum' || e.keyword === 'maximum')) {
    if (s.minimum !== undefined && s.maximum !== undefined) {
      return `must be ${noun} between ${s.minimum} and ${s.maximum}`;
    }
    if (s.minimum !== undefined) return `must be ${noun} of at least ${s.minimum}`;
    if (s.maximum !== undefined) return `must be ${noun} of at most ${s.maximum}`;
    return `must be ${noun}`;
  }
  if (e.keyword === 'minLength' || e.keyword === 'maxLength') {
    const lo = s.minLength ?? 0;
    return s.maxLength === undefined
      ? `must be at least ${lo} characters`
      : `must be ${lo}–${s.maxLength} characters`;
  }
  return undefined;
}
