import { isUtf8 } from 'node:buffer';

/**
 * The payload of a Rails 7.1+ JSON message serializer (`:json`, `:json_allow_marshal`) for a String:
 * `ActiveSupport::JSON.encode(text)` (ActiveSupport::Messages::SerializerWithFallback::JsonWithFallback),
 * which is the json gem's string with HTML entities and U+2028/U+2029 escaped as `\uXXXX`
 * (ActiveSupport::JSON::Encoding::EscapedString, `escape_html_entities_in_json` on, as in Rails).
 */

/** Thrown for text that ActiveSupport::JSON.encode refuses (the json gem raises JSON::GeneratorError). */
export class JsonPayloadError extends Error {}

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ACTIVE_SUPPORT_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * `ActiveSupport::JSON.encode(text)` of UTF-8 bytes. The json gem escapes `"`, `\` and control characters
 * (short forms \b \t \n \f \r, else lowercase \u00xx), leaves `/`, DEL and other characters raw, as
 * JSON.stringify does; ActiveSupport then escapes < > & U+2028 U+2029. Text that is not valid UTF-8
 * cannot be written as JSON (Ruby raises "source sequence is illegal/malformed utf-8").
 */
export function dumpJsonString(bytes: Uint8Array): Buffer {
  let text: string;
  try {
    text = FATAL_UTF8.decode(bytes);
  } catch {
    throw new JsonPayloadError('the text is not valid UTF-8');
  }
  const json = JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => ACTIVE_SUPPORT_ESCAPES[c]!);
  return Buffer.from(json, 'utf8');
}

const ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * The bytes of the JSON string a payload holds, as `ActiveSupport::JSON.decode` (json 2.x `JSON.parse`)
 * returns them: raw bytes are copied as they are, escapes are decoded, a surrogate pair becomes one
 * character and a lone low surrogate its three-byte form; a lone high surrogate, a raw control character
 * or anything but whitespace after the string is an error. A payload that is not valid UTF-8 is an error
 * too (the serializer's format check, a regular expression, raises on it). Null when the payload is not
 * one JSON string (a number or an object is not a settings text either).
 */
export function loadJsonString(payload: Buffer): Buffer | null {
  if (payload[0] !== 0x22 || !isUtf8(payload)) return null;
  const out = Buffer.allocUnsafe(payload.length);
  let length = 0;
  let i = 1;
  const hex4 = (at: number): number => {
    const digits = payload.toString('latin1', at, at + 4);
    return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
  };
  for (;;) {
    if (i >= payload.length) return null;
    const byte = payload[i]!;
    if (byte === 0x22) break;
    if (byte < 0x20) return null;
    if (byte !== 0x5c) {
      out[length++] = byte;
      i++;
      continue;
    }
    const escape = payload[i + 1];
    if (escape === undefined) return null;
    if (escape !== 0x75 /* u */) {
      const value = ESCAPES[escape];
      if (value === undefined) return null;
      out[length++] = value;
      i += 2;
      continue;
    }
    let code = hex4(i + 2);
    if (code < 0) return null;
    i += 6;
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = payload[i] === 0x5c && payload[i + 1] === 0x75 ? hex4(i + 2) : -1;
      if (low < 0xdc00 || low > 0xdfff) return null;
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      i += 6;
    }
    length += encodeUtf8(code, out, length);
  }
  for (i++; i < payload.length; i++) if (!WHITESPACE.has(payload[i]!)) return null;
  return out.subarray(0, length);
}

/** UTF-8 of a code point, a lone surrogate included (as Ruby's json gem writes it). */
function encodeUtf8(code: number, out: Buffer, at: number): number {
  if (code < 0x80) {
    out[at] = code;
    return 1;
  }
  if (code < 0x800) {
    out[at] = 0xc0 | (code >> 6);
    out[at + 1] = 0x80 | (code & 0x3f);
    return 2;
  }
  if (code < 0x10000) {
    out[at] = 0xe0 | (code >> 12);
    out[at + 1] = 0x80 | ((code >> 6) & 0x3f);
    out[at + 2] = 0x80 | (code & 0x3f);
    return 3;
  }
  out[at] = 0xf0 | (code >> 18);
  out[at + 1] = 0x80 | ((code >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((code >> 6) & 0x3f);
  out[at + 3] = 0x80 | (code & 0x3f);
  return 4;
}
