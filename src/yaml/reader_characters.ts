/**
 * What libyaml's reader rejects anywhere in what it has read, before parsing (reader.c): control characters,
 * U+FFFE/U+FFFF and unpaired surrogates. Tab, LF, CR and NEL are allowed.
 */
export const NON_PRINTABLE =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
