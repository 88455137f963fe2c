/**
 * The three allocator domains of CPython's `PyMem_*` API (`PyMemAllocatorDomain`,
 * `Include/cpython/pymem.h`) and the API identifier the debug hooks record for each.
 *
 *   value  name  CPython                API id  functions
 *   -----  ----  ---------------------  ------  ------------------------------------------------
 *     0    RAW   PYMEM_DOMAIN_RAW        'r'    PyMem_Raw*: thread-safe, no thread state needed
 *     1    MEM   PYMEM_DOMAIN_MEM        'm'    PyMem_*: needs an attached thread state
 *     2    OBJ   PYMEM_DOMAIN_OBJ        'o'    PyObject_*: needs an attached thread state
 */
import type { ApiId } from "../api.ts";

/** The allocator domains, numbered as CPython's `PyMemAllocatorDomain`. */
export const Domain = {
  /** `PYMEM_DOMAIN_RAW`: `PyMem_RawMalloc` and friends; callable without a thread state. */
  RAW: 0,
  /** `PYMEM_DOMAIN_MEM`: `PyMem_Malloc` and friends (the MEM-tagged mimalloc heap). */
  MEM: 1,
  /** `PYMEM_DOMAIN_OBJ`: `PyObject_Malloc` and friends (the thread's current object heap). */
  OBJ: 2,
} as const;

/** One of {@link Domain}'s values. */
export type Domain = (typeof Domain)[keyof typeof Domain];

/** Number of domains; valid domains are `0 <= d < DOMAIN_COUNT`. */
export const DOMAIN_COUNT = 3;

const DOMAIN_NAMES = ["RAW", "MEM", "OBJ"] as const;
const DOMAIN_API_IDS = ["r", "m", "o"] as const;

/** The name of a domain, as in {@link Domain}'s keys. */
export type DomainName = (typeof DOMAIN_NAMES)[number];

/**
 * Validate a domain that came from outside (a caller, a message, the arena) and return it typed.
 *
 * @throws TypeError when `value` is not an integer number, naming what it is.
 * @throws RangeError when it is an integer but no domain, naming the value and the valid ones.
 */
export function checkDomain(value: unknown): Domain {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`memory domain must be an integer, got ${describe(value)}`);
  }
  if (value < 0 || value >= DOMAIN_COUNT) {
    throw new RangeError(`unknown memory domain ${value}: expected RAW (0), MEM (1) or OBJ (2)`);
  }
  return value as Domain;
}

/** `"RAW"`, `"MEM"` or `"OBJ"`. @throws as {@link checkDomain} for a value that is not a domain. */
export function domainName(domain: Domain): DomainName {
  return DOMAIN_NAMES[checkDomain(domain)];
}

/** The debug hooks' API id of a domain: `'r'`, `'m'` or `'o'`. @throws as {@link checkDomain}. */
export function domainApiId(domain: Domain): ApiId {
  return DOMAIN_API_IDS[checkDomain(domain)];
}

/** A short description of a bad argument for an error message: its type and its value. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return `object ${Object.prototype.toString.call(value)}`;
  if (typeof value === "function") return "function";
  return `${typeof value} ${String(value)}`;
}
