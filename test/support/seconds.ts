/** The library's clock (whole seconds since the epoch), for expiry arithmetic in tests. */
export { nowSeconds } from '../../src/core/clock';
