/**
 * A small JSON-schema checker that reports the first failure the way Misskey's ajv setup does:
 * `info: {param: <schemaPath>, reason: <ajv message>}` (misskey.md §10 rows 15 and 31). Only the
 * keywords Misskey's paramDefs use for the endpoints this double serves are supported.
 */
import { ApiError, E } from './api-error';

interface Base {
  readonly nullable?: boolean;
}
export type StringSchema = Base & {
  readonly type: 'string';
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly enum?: readonly string[];
};
export type NumberSchema = Base & { readonly type: 'number' | 'integer'; readonly minimum?: number; readonly maximum?: number };
export type BooleanSchema = Base & { readonly type: 'boolean' };
export type ArraySchema = Base & { readonly type: 'array'; readonly items?: Schema };
export type ObjectSchema = Base & {
  readonly type: 'object';
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  /** Misskey compiles `anyOf` alternatives under an `allOf` wrapper (users/show). */
  readonly allOf?: readonly { readonly anyOf: readonly ObjectSchema[] }[];
};
export type Schema = StringSchema | NumberSchema | BooleanSchema | ArraySchema | ObjectSchema;

/** Where and why a value failed, in ajv's words. */
export interface SchemaFailure {
  readonly param: string;
  readonly reason: string;
}

function typeOk(s: Schema, v: unknown): boolean {
  if (v === null) return s.nullable === true;
  switch (s.type) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
  }
}

/** Returns the first failure (ajv `allErrors: false` order) or null when the value passes. */
export function checkSchema(s: Schema, v: unknown, path = '#'): SchemaFailure | null {
  if (!typeOk(s, v)) return { param: `${path}/type`, reason: `must be ${s.type}` };
  if (v === null) return null;
  switch (s.type) {
    case 'string': {
      const str = v as string;
      if (s.maxLength !== undefined && [...str].length > s.maxLength)
        return { param: `${path}/maxLength`, reason: `must NOT have more than ${s.maxLength} characters` };
      if (s.minLength !== undefined && [...str].length < s.minLength)
        return { param: `${path}/minLength`, reason: `must NOT have fewer than ${s.minLength} characters` };
      if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(str))
        return { param: `${path}/pattern`, reason: `must match pattern "${s.pattern}"` };
      if (s.enum !== undefined && !s.enum.includes(str))
        return { param: `${path}/enum`, reason: 'must be equal to one of the allowed values' };
      return null;
    }
    case 'number':
    case 'integer': {
      const n = v as number;
      if (s.maximum !== undefined && n > s.maximum) return { param: `${path}/maximum`, reason: `must be <= ${s.maximum}` };
      if (s.minimum !== undefined && n < s.minimum) return { param: `${path}/minimum`, reason: `must be >= ${s.minimum}` };
      return null;
    }
    case 'boolean':
      return null;
    case 'array': {
      if (s.items === undefined) return null;
      const arr = v as unknown[];
      for (let i = 0; i < arr.length; i++) {
        const f = checkSchema(s.items, arr[i], `${path}/items`);
        if (f) return f;
      }
      return null;
    }
    case 'object':
      return checkObject(s, v as Record<string, unknown>, path);
  }
}

function checkObject(s: ObjectSchema, o: Record<string, unknown>, path: string): SchemaFailure | null {
  for (const key of s.required ?? []) {
    if (!(key in o) || o[key] === undefined) return { param: `${path}/required`, reason: `must have required property '${key}'` };
  }
  for (const [key, sub] of Object.entries(s.properties ?? {})) {
    if (o[key] === undefined) continue;
    const f = checkSchema(sub, o[key], `${path}/properties/${key}`);
    if (f) return f;
  }
  for (const [i, group] of (s.allOf ?? []).entries()) {
    let first: SchemaFailure | null = null;
    let passed = false;
    for (const [j, alt] of group.anyOf.entries()) {
      const f = checkObject(alt, o, `${path}/allOf/${i}/anyOf/${j}`);
      if (f === null) {
        passed = true;
        break;
      }
      first ??= f;
    }
    if (!passed && first) return first;
  }
  return null;
}

/** Validates request params, throwing Misskey's INVALID_PARAM on the first failure. */
export function validateParams(s: ObjectSchema, params: Record<string, unknown>): void {
  const f = checkSchema(s, params);
  if (f) throw new ApiError(E.invalidParam, f);
}

/**
 * Multipart fields arrive as strings; Misskey casts top-level boolean/number params with
 * JSON.parse before validation (ApiCallService "Cast non JSON input").
 */
export function castMultipartFields(s: ObjectSchema, fields: Record<string, unknown>): void {
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    const v = fields[k];
    if (typeof v !== 'string' || !['boolean', 'number', 'integer'].includes(sub.type)) continue;
    try {
      fields[k] = JSON.parse(v);
    } catch {
      throw new ApiError(
        { message: 'Invalid param.', code: 'INVALID_PARAM', id: '0b5f1631-7c1a-41a6-b399-cce335f34d85' },
        { param: k, reason: `cannot cast to ${sub.type}` },
      );
    }
  }
}
