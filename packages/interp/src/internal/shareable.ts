/**
 * Which JavaScript values may cross interpreters: CPython's cross-interpreter rules
 * (`Python/crossinterp_data_lookup.h`: None, bool, int, float, str, bytes, memoryview's buffer,
 * tuples of shareable items) translated to what a JavaScript value means.
 *
 *   JavaScript value                                   Python analogue      shareable
 *   -------------------------------------------------  -------------------  ---------
 *   null, undefined                                    None                 yes
 *   boolean                                            bool                 yes
 *   number (NaN, ±Infinity and -0 included), bigint    float, int           yes
 *   string                                             str                  yes
 *   SharedArrayBuffer; a typed array or DataView on    memoryview of a      yes (shared,
 *   a SharedArrayBuffer                                shared buffer        not copied)
 *   frozen plain array of shareable items, nested      tuple                yes
 *   a Queue (its state is in the arena)                Queue                yes (by id)
 *   array that is not frozen                           list                 no
 *   ArrayBuffer and views on it                        bytearray (mutable)  no
 *   symbol, function, plain object, Map, Set, Date,    dict, set, function, no
 *   RegExp, Error, class instance, boxed primitive,    instance, exception
 *   a subclass of Array, an array that holds itself
 *
 * Everything immutable or already shared crosses; nothing that one interpreter could mutate
 * behind the other's back does. (Structured clone would copy far more, which is exactly what
 * CPython does not allow: a copy silently diverges.)
 */
import { NotShareableError } from "./errors.ts";

/**
 * Objects whose state lives in shared memory and that cross interpreters as a reference to it
 * (queues) carry this brand: `obj[SHAREABLE_BRAND] === true`.
 */
export const SHAREABLE_BRAND: unique symbol = Symbol("ft.shareable");

function isBranded(obj: object): boolean {
  return (obj as { [SHAREABLE_BRAND]?: unknown })[SHAREABLE_BRAND] === true;
}

/** True when `value` may cross interpreters (see the table above). Never throws. */
export function isShareable(value: unknown): boolean {
  try {
    return findUnshareable(value, []) === undefined;
  } catch {
    return false; // a Proxy whose traps throw
  }
}

/**
 * Throw unless `value` may cross interpreters.
 *
 * @throws NotShareableError naming the innermost value that cannot cross, in CPython's words:
 *   `"<value> does not support cross-interpreter data"`.
 */
export function checkShareable(value: unknown): void {
  const bad = findUnshareable(value, []);
  if (bad !== undefined) throw new NotShareableError(bad);
}

/** The message about the first value in `value` that cannot cross, or `undefined` when all can. */
function findUnshareable(value: unknown, path: unknown[]): string | undefined {
  switch (typeof value) {
    case "undefined":
    case "boolean":
    case "number":
    case "bigint":
    case "string":
      return undefined;
    case "symbol":
    case "function":
      return unsupported(value);
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (isSharedArrayBuffer(obj)) return undefined;
  if (ArrayBuffer.isView(obj)) {
    return isSharedArrayBuffer(obj.buffer)
      ? undefined
      : unsupported(obj, " (its buffer is not a SharedArrayBuffer)");
  }
  if (Array.isArray(obj)) {
    if (!Array.isArray(Object.getPrototypeOf(obj))) return unsupported(obj, " (a subclass of Array)");
    if (!Object.isFrozen(obj)) return unsupported(obj, " (freeze it to pass it as a tuple)");
    if (path.includes(obj))
      return "a frozen array that contains itself does not support cross-interpreter data";
    path.push(obj);
    try {
      for (let i = 0; i < obj.length; i++) {
        const bad = findUnshareable(obj[i], path);
        if (bad !== undefined) return bad;
      }
    } finally {
      path.pop();
    }
    return undefined;
  }
  if (isBranded(obj)) return undefined;
  return unsupported(obj);
}

/**
 * `Object.prototype.toString` tells a SharedArrayBuffer of any realm; `instanceof` would miss one
 * made in a `vm` context.
 */
function isSharedArrayBuffer(value: object): boolean {
  return Object.prototype.toString.call(value) === "[object SharedArrayBuffer]";
}

function unsupported(value: unknown, hint = ""): string {
  return `${describe(value)} does not support cross-interpreter data${hint}`;
}

function isPrintablePrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function");
}

/** A short description of a value for the message: `<function f>`, `<Map object>`, `[1, 2]`. */
function describe(value: unknown): string {
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `<function ${value.name || "(anonymous)"}>`;
  if (Array.isArray(value) && value.length <= 8 && value.every(isPrintablePrimitive)) {
    return `[${value.map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v))).join(", ")}]`;
  }
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  let name = tag;
  try {
    const ctor = (value as { constructor?: unknown }).constructor;
    if (typeof ctor === "function" && ctor.name) name = ctor.name;
  } catch {
    // a throwing getter: keep the tag
  }
  return `<${name} object>`;
}
