import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where measured figures go: git-ignored, kept between runs. */
export const MEASUREMENTS_DIR = join(__dirname, '..', '..', 'test-output', 'measurements');

/**
 * Keeps figures a test measured (latencies, timings: the numbers behind the docs) in
 * `test-output/measurements/<name>.log`, one timestamped line each, instead of printing them:
 * a passing `npm test` prints only Jest's summary.
 */
export function recordMeasurement(name: string, ...lines: string[]): void {
  mkdirSync(MEASUREMENTS_DIR, { recursive: true });
  const at = new Date().toISOString();
  appendFileSync(join(MEASUREMENTS_DIR, `${name}.log`), lines.map((line) => `${at} ${line}\n`).join(''));
}
