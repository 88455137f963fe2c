import { pyTypeName } from "@ft/interp";
/**
 * Argument checks of the `gc` module's functions, with CPython's exception wording
 * (`Modules/gcmodule.c`, `Modules/clinic/gcmodule.c.h`, `Python/modsupport.c`). Python's
 * ValueError and OverflowError become RangeError; TypeError stays TypeError.
 *
 * A JavaScript boolean is not an integer here (Python's bool is an int; JavaScript's is not a
 * number), and a bigint is accepted as Python's int.
 */
import { type Generation, NUM_GENERATIONS } from "./constants.ts";

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const SSIZE_MAX = 2n ** 63n - 1n;

/**
 * Check the argument of `gc.collect(generation)`: an int (clinic's `int` converter) between 0 and
 * 2. Callers apply the default (2) for a missing argument themselves.
 *
 * @throws TypeError `"'str' object cannot be interpreted as an integer"` for a non-integer.
 * @throws RangeError `"Python int too large to convert to C int"` beyond a C int,
 *   `"invalid generation"` for any other integer outside 0–2.
 */
export function checkGeneration(value: unknown): Generation {
  const g = asCInt(value);
  if (g < 0 || g >= NUM_GENERATIONS) throw new RangeError("invalid generation");
  return g as Generation;
}

/**
 * Check the argument of `gc.get_objects(generation=None)` (clinic's `Py_ssize_t(accept={int,
 * NoneType})`). Returns the generation, or `null` for all of them: `null`, `undefined` and -1
 * all mean "every generation", as in CPython.
 *
 * @throws TypeError `"argument should be integer or None, not 'str'"` for anything else.
 * @throws RangeError `"generation parameter must be less than the number of available generations (3)"`,
 *   `"generation parameter cannot be negative"` (below -1), or
 *   `"Python int too large to convert to C ssize_t"`.
 */
export function checkObjectsGeneration(value: unknown): Generation | null {
  if (value === null || value === undefined) return null;
  let g: number;
  if (typeof value === "bigint") {
    if (value > SSIZE_MAX || value < -SSIZE_MAX - 1n) {
      throw new RangeError("Python int too large to convert to C ssize_t");
    }
    g = Number(value); // exact for the values that pass; others only need their sign and size
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (Math.abs(value) >= 2 ** 63) throw new RangeError("Python int too large to convert to C ssize_t");
    g = value;
  } else {
    throw new TypeError(`argument should be integer or None, not '${pyTypeName(value)}'`);
  }
  if (g >= NUM_GENERATIONS) {
    throw new RangeError(
      `generation parameter must be less than the number of available generations (${NUM_GENERATIONS})`,
    );
  }
  if (g < -1) throw new RangeError("generation parameter cannot be negative");
  return g === -1 ? null : (g as Generation);
}

/**
 * Check the argument of `gc.set_debug(flags)`: any C int, as CPython stores it (bits it does not
 * know are kept, not refused).
 *
 * @throws TypeError for a non-integer; RangeError `"Python int too large to convert to C int"`.
 */
export function checkDebugFlags(value: unknown): number {
  return asCInt(value);
}

/**
 * Check one argument of `gc.set_threshold(threshold0[, threshold1[, threshold2]])`: any C int.
 *
 * @throws TypeError for a non-integer; RangeError `"Python int too large to convert to C int"`.
 */
export function checkThreshold(value: unknown): number {
  return asCInt(value);
}

/** Clinic's `int` converter (`_PyLong_AsInt`). */
function asCInt(value: unknown): number {
  let n: number;
  if (typeof value === "bigint") {
    if (value < BigInt(INT_MIN) || value > BigInt(INT_MAX)) {
      throw new RangeError("Python int too large to convert to C int");
    }
    n = Number(value);
  } else if (typeof value === "number" && Number.isInteger(value)) {
    n = value;
  } else {
    throw new TypeError(`'${pyTypeName(value)}' object cannot be interpreted as an integer`);
  }
  if (n < INT_MIN || n > INT_MAX) throw new RangeError("Python int too large to convert to C int");
  return n;
}

/**
 * Check an object argument (`gc.is_tracked(obj)`, `get_referrers(*objs)`, …): 0 (None) or an
 * object pointer of `buffer`'s arena, a nonzero 8-aligned offset whose header lies in the buffer.
 * Only the shape is checked; what the offset holds is the caller's (as a C extension's PyObject*).
 *
 * @throws TypeError naming `fn` and the value for anything else.
 */
export function checkObjectArgument(fn: string, buffer: SharedArrayBuffer, op: unknown): number {
  if (op === 0) return 0;
  if (typeof op !== "number" || (op >>> 0) !== op || (op & 7) !== 0 || op + 24 > buffer.byteLength) {
    throw new TypeError(
      `${fn}() argument must be an object (an 8-aligned offset into the arena, or 0 for None), got ${
        typeof op === "number" ? op : `'${pyTypeName(op)}'`
      }`,
    );
  }
  return op;
}
