/**
 * The one clock of the library: every expiry, `iat` and revocation `until` is in whole seconds
 * since the epoch, as JWT `exp`/`iat` are (RFC 7519 §2 NumericDate).
 * @packageDocumentation
 */

/** Now, in whole seconds since the epoch. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
