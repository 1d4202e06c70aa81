/**
 * Text that goes back to clients inside headers, redirects and quoted strings.
 * @packageDocumentation
 */

/**
 * `error_description` limited to the characters RFC 6749 §5.2/§4.1.2.1 allow
 * (%x20-21 / %x23-5B / %x5D-7E): double quotes become single quotes, anything else outside
 * the set is dropped. Safe inside an RFC 6750 quoted-string and a URL query.
 */
export function safeDescription(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}
