/**
 * Number formatting as C's `printf` does it, for the collector's DEBUG_STATS line
 * (`"gc: done, … %.4fs elapsed"`) and for @ft/gcmodule, which reuses it.
 */

/** How many digits past the kept ones decide whether a value is exactly halfway. */
const TIE_DIGITS = 30;

/**
 * `printf("%.*f", digits, x)`: like `toFixed`, except that a value exactly halfway between two
 * results goes to the even one (`toFixed` picks the larger): `formatFixed(0.03125, 4)` is
 * `"0.0312"` where `(0.03125).toFixed(4)` is `"0.0313"`. A double that is exactly halfway at
 * `digits` places has a short decimal expansion, so `TIE_DIGITS` more places show it.
 */
export function formatFixed(x: number, digits: number): string {
  if (typeof x !== "number") throw new TypeError(`formatFixed: x must be a number, got ${typeof x}`);
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`formatFixed: digits must be an integer 0 … 100, got ${String(digits)}`);
  }
  const rounded = x.toFixed(digits);
  if (digits < 1 || !Number.isFinite(x) || Math.abs(x) >= 1e21) return rounded;
  const long = Math.abs(x).toFixed(digits + TIE_DIGITS);
  const cut = long.length - TIE_DIGITS;
  if (long.slice(cut) !== `5${"0".repeat(TIE_DIGITS - 1)}`) return rounded;
  const kept = long.slice(0, cut);
  if (Number(kept[kept.length - 1]) % 2 === 1) return rounded; // odd: rounding away is rounding to even
  return x < 0 ? `-${kept}` : kept;
}
