// Field readers for decoded JSON: each checks one field's type and throws an invalid-config
// error (code 7) naming the field by its path (`ipam.assignIpv4: must be a boolean`).
import { invalidConfig } from './errors.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `undefined` and `null` both mean "not set" (Go's decoder treats them alike). */
const isUnset = (v: unknown): v is undefined | null => v === undefined || v === null;

export function optionalObject(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (!isObject(v)) throw invalidConfig(`${path}: must be an object`);
  return v;
}

export function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (typeof v !== 'string') throw invalidConfig(`${path}: must be a string`);
  return v;
}

export function requiredString(obj: JsonObject, key: string, path: string): string {
  const v = optionalString(obj, key, path);
  if (v === undefined || v === '') throw invalidConfig(`${path}: required`);
  return v;
}

export function optionalBoolean(obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (typeof v !== 'boolean') throw invalidConfig(`${path}: must be a boolean`);
  return v;
}

export function optionalInteger(obj: JsonObject, key: string, path: string): number | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidConfig(`${path}: must be an integer`);
  return v;
}

export function optionalStringArray(obj: JsonObject, key: string, path: string): string[] | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (!Array.isArray(v)) throw invalidConfig(`${path}: must be an array of strings`);
  return v.map((item, i) => {
    if (typeof item !== 'string') throw invalidConfig(`${path}[${i}]: must be a string`);
    return item;
  });
}

export function optionalArray(obj: JsonObject, key: string, path: string): unknown[] | undefined {
  const v = obj[key];
  if (isUnset(v)) return undefined;
  if (!Array.isArray(v)) throw invalidConfig(`${path}: must be an array`);
  return v;
}
