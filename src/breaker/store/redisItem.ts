/**
 * How the state item (see state.ts) is laid out in one Redis hash, and how a hash becomes the raw item that
 * `parseItem` validates, so a malformed hash is treated exactly as a malformed DynamoDB item.
 *
 * Redis stores every field as a string, so the types come from this layout:
 *   state, openReason          strings
 *   p_<slot>                   a permit lease as JSON: {"exp": <epoch ms>, "tok": "<token>"}
 *   every other field          a decimal number ("12", "-3", "1.5"); anything else stays a string, which
 *                              parseItem reports as a problem (as a DynamoDB S where an N belongs)
 * A whole number beyond 2^53 is UNREADABLE (as DynamoDB's decoder refuses a number it cannot hold exactly).
 *
 * The Lua scripts (redisScripts.ts) read fields with the same rules: NUMBER below is their `is_number`.
 */
import { ATTR, PERMIT_NAME, UNREADABLE } from '../state';

/** A decimal number as the scripts recognise it (Lua: `^%-?%d+$` or `^%-?%d+%.%d+$`). */
export const NUMBER = /^-?\d+(\.\d+)?$/;

const STRING_FIELDS = new Set<string>([ATTR.state, ATTR.id, 'openReason']);

/** One hash field's string as the native value parseItem expects. */
export function decodeField(name: string, text: string): unknown {
  if (STRING_FIELDS.has(name)) return text;
  if (PERMIT_NAME.test(name)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // not a lease: parseItem reports it
    }
  }
  if (!NUMBER.test(text)) return text;
  const value = Number(text);
  if (!text.includes('.') && !Number.isSafeInteger(value)) return UNREADABLE;
  return value;
}

/** A flat HGETALL reply ([field, value, field, value, ...]) as a raw item; an empty hash is a missing item. */
export function decodeHash(flat: readonly unknown[]): Record<string, unknown> | undefined {
  if (flat.length === 0) return undefined;
  const raw: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) raw[String(flat[i])] = decodeField(String(flat[i]), String(flat[i + 1]));
  return raw;
}

/** A native value as the string the hash holds (leases and other objects as JSON). */
export function encodeField(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** A permit lease field's value. */
export function encodeLease(expiresAt: number, token: string): string {
  return JSON.stringify({ [ATTR.permitExpiry]: expiresAt, [ATTR.permitToken]: token });
}
