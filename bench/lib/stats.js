/**
 * Summaries of per-round figures: the median and the spread (min–max), nothing fancier —
 * with 3–5 rounds, anything more is noise dressed up.
 * @packageDocumentation
 */
'use strict';

/** @param {readonly number[]} values */
function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? /** @type {number} */ (sorted[mid])
    : /** @type {number} */ (sorted[mid - 1] + /** @type {number} */ (sorted[mid])) / 2;
}

/**
 * Median, min and max, and the half-range relative to the median (the "±" shown).
 * @param {readonly number[]} values
 */
function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  const med = median(finite);
  const min = finite.length ? Math.min(...finite) : NaN;
  const max = finite.length ? Math.max(...finite) : NaN;
  return { median: med, min, max, spread: (max - min) / 2 / med, n: finite.length };
}

module.exports = { median, summary };
