/**
 * Layout of a block under the debug hooks, after CPython's debug allocator (`Objects/obmalloc.c`,
 * "A x-platform debugging allocator"). The hooks wrap a domain's allocator: they ask it for
 * `size + DEBUG_EXTRA_BYTES` bytes at `q` and hand out `p = q + DEBUG_HEADER_SIZE`.
 *
 * S = SST = sizeof(size_t) = 8, as on a 64-bit CPython, so that dumps read the same.
 *
 *   q+0               q+8  q+9             q+16 = p                p+n              p+n+8          p+n+16
 *   +-----------------+----+---------------+-----------------------+----------------+--------------+
 *   | n: bytes asked  | id | 7 x FORBIDDEN | data (n bytes):       | 8 x FORBIDDEN  | serial no.   |
 *   | size_t, big-    |'r' | 0xfd          | CLEANBYTE 0xcd on     | 0xfd           | size_t, BE   |
 *   | endian          |'m' |               | alloc, DEADBYTE 0xdd  |                | (optional,   |
 *   |                 |'o' |               | on free               |                | off default) |
 *   +-----------------+----+---------------+-----------------------+----------------+--------------+
 *   ^ q = block start                      ^ p = data (returned)   ^ tail = p + n
 *
 * Invariant of a live block:
 *   q[8] == the API id of the domain that allocated it,
 *   q[9..15] == FORBIDDENBYTE (catches underwrites), tail[0..7] == FORBIDDENBYTE (overwrites).
 * After free, q[0..15] are DEADBYTE; so are the data and the trailer, except the first `skip`
 * data bytes of an object (see {@link heapDebugOffset}).
 *
 * All functions take the data pointer `p`, as CPython's debug functions do.
 */
import type { ApiId } from "../api.ts";
import { assert } from "./assert.ts";
import { checkHeapTag, HeapTag } from "./heap-tags.ts";

/** log2 of SST, the size of the header words (CPython's `SIZEOF_SIZE_T` on 64-bit). */
export const DEBUG_WORD_SHIFT = 3;
/** SST: size of the requested-size field, of the trailing pad and of the serial number. */
export const DEBUG_WORD_SIZE = 1 << DEBUG_WORD_SHIFT; // 8

/** Offset from the block start `q` of the requested size (big-endian, SST bytes). */
export const DEBUG_SIZE_OFFSET = 0;
/** Offset from `q` of the API id byte (`'r'`, `'m'` or `'o'`). */
export const DEBUG_API_ID_OFFSET = DEBUG_WORD_SIZE; // 8
/** Offset from `q` of the leading pad (SST-1 FORBIDDENBYTEs). */
export const DEBUG_LEADING_PAD_OFFSET = DEBUG_API_ID_OFFSET + 1; // 9
/** Number of leading pad bytes, SST-1; they are the bytes at `p-7 .. p-1`. */
export const DEBUG_LEADING_PAD_SIZE = DEBUG_WORD_SIZE - 1; // 7
/** Bytes before the data: size, id and leading pad (`2*SST`). The data pointer is `q + DEBUG_HEADER_SIZE`. */
export const DEBUG_HEADER_SIZE = 2 * DEBUG_WORD_SIZE; // 16
/** Number of trailing pad bytes (SST FORBIDDENBYTEs at `tail = p + n`). */
export const DEBUG_TRAILER_SIZE = DEBUG_WORD_SIZE; // 8
/** Size of the optional serial number after the trailing pad (`PYMEM_DEBUG_SERIALNO`). */
export const DEBUG_SERIAL_SIZE = DEBUG_WORD_SIZE; // 8
/** `PYMEM_DEBUG_EXTRA_BYTES` without a serial number: header + trailing pad (`3*SST`). */
export const DEBUG_EXTRA_BYTES = DEBUG_HEADER_SIZE + DEBUG_TRAILER_SIZE; // 24
/** `PYMEM_DEBUG_EXTRA_BYTES` with a serial number (`4*SST`). */
export const DEBUG_EXTRA_BYTES_SERIAL = DEBUG_EXTRA_BYTES + DEBUG_SERIAL_SIZE; // 32

/** `PYMEM_FORBIDDENBYTE`: fills the pads on both sides of the data. */
export const PYMEM_FORBIDDENBYTE = 0xfd;
/** `PYMEM_CLEANBYTE`: fills freshly allocated data (catches reads of uninitialised memory). */
export const PYMEM_CLEANBYTE = 0xcd;
/** `PYMEM_DEADBYTE`: fills freed blocks (catches use after free). */
export const PYMEM_DEADBYTE = 0xdd;

/** Where a block whose data is at `p` starts (the pointer the wrapped allocator returned). */
export function debugBlockStart(p: number): number {
  return p - DEBUG_HEADER_SIZE;
}

/** The data pointer of a block that starts at `q` (what the debug hooks return). */
export function debugDataPointer(q: number): number {
  return q + DEBUG_HEADER_SIZE;
}

/**
 * Write a block's header: the requested size big-endian, then the API id, then the leading pad.
 * The header occupies `p-16 .. p-1`.
 */
export function writeDebugHeader(u8: Uint8Array, p: number, size: number, apiId: ApiId): void {
  if (__DEBUG__) assert(p >= DEBUG_HEADER_SIZE && p <= u8.length, "debug header must lie inside the buffer");
  if (__DEBUG__)
    assert(Number.isSafeInteger(size) && size >= 0, "requested size must be a non-negative integer");
  const q = p - DEBUG_HEADER_SIZE;
  writeSizeT(u8, q + DEBUG_SIZE_OFFSET, size);
  u8[q + DEBUG_API_ID_OFFSET] = apiId.charCodeAt(0);
  u8.fill(PYMEM_FORBIDDENBYTE, q + DEBUG_LEADING_PAD_OFFSET, q + DEBUG_HEADER_SIZE);
}

/**
 * Write a block's trailer at `tail = p + size`: the trailing pad and, when `serial` is given, the
 * serial number big-endian after it.
 */
export function writeDebugTrailer(u8: Uint8Array, p: number, size: number, serial?: number): void {
  const tail = p + size;
  const end = tail + DEBUG_TRAILER_SIZE + (serial === undefined ? 0 : DEBUG_SERIAL_SIZE);
  if (__DEBUG__) assert(end <= u8.length, "debug trailer must lie inside the buffer");
  u8.fill(PYMEM_FORBIDDENBYTE, tail, tail + DEBUG_TRAILER_SIZE);
  if (serial !== undefined) writeSizeT(u8, tail + DEBUG_TRAILER_SIZE, serial);
}

/** The size the caller asked for, read big-endian from the header (CPython's `read_size_t(q)`). */
export function readRequestedSize(u8: Uint8Array, p: number): number {
  return readSizeT(u8, p - DEBUG_HEADER_SIZE + DEBUG_SIZE_OFFSET);
}

/** The API id character stored in the header (whatever byte is there, e.g. `'\xdd'` once freed). */
export function readApiId(u8: Uint8Array, p: number): string {
  return String.fromCharCode(u8[p - DEBUG_HEADER_SIZE + DEBUG_API_ID_OFFSET]);
}

/** The serial number after the trailing pad of a block made with `PYMEM_DEBUG_SERIALNO`. */
export function readSerialNumber(u8: Uint8Array, p: number): number {
  return readSizeT(u8, p + readRequestedSize(u8, p) + DEBUG_TRAILER_SIZE);
}

/**
 * Fill the data bytes `[p + skip, p + size)` with `byte`, leaving the first `skip` bytes alone
 * (CPython's free-threaded `fill_mem_debug`: an object's `ob_tid` and refcount words must stay
 * readable after free, for lock-free readers). Nothing is written when `skip >= size`.
 */
export function fillData(u8: Uint8Array, p: number, size: number, byte: number, skip = 0): void {
  if (__DEBUG__) assert(byte >= 0 && byte <= 0xff && Number.isInteger(byte), "fill byte must be a uint8");
  if (__DEBUG__) assert(Number.isInteger(skip) && skip >= 0, "fill skip must be a non-negative integer");
  if (__DEBUG__) assert(p + size <= u8.length, "filled data must lie inside the buffer");
  if (skip < size) u8.fill(byte, p + skip, p + size);
}

/**
 * Decorate a block as the debug `malloc`/`calloc` does: header, data filled with CLEANBYTE (from
 * `skip` on; not at all for calloc, whose memory is already zero), trailing pad, optional serial.
 *
 * @param fill - false for calloc. @defaultValue true
 * @param skip - data bytes the fill leaves alone, see {@link debugFillSkip}. @defaultValue 0
 * @param serial - the serial number, for blocks made with `PYMEM_DEBUG_SERIALNO`.
 */
export function decorateDebugBlock(
  u8: Uint8Array,
  p: number,
  size: number,
  apiId: ApiId,
  fill = true,
  skip = 0,
  serial?: number,
): void {
  writeDebugHeader(u8, p, size, apiId);
  if (fill && size > 0) fillData(u8, p, size, PYMEM_CLEANBYTE, skip);
  writeDebugTrailer(u8, p, size, serial);
}

/**
 * Mark a block freed as the free-threaded debug `free` does: DEADBYTE over the header, then over
 * the data and the trailer (and serial) from `skip` on. Call {@link checkPads} first.
 */
export function markDebugBlockFreed(u8: Uint8Array, p: number, skip = 0, hasSerial = false): void {
  const size = readRequestedSize(u8, p);
  const q = p - DEBUG_HEADER_SIZE;
  u8.fill(PYMEM_DEADBYTE, q, p);
  fillData(u8, p, size + DEBUG_TRAILER_SIZE + (hasSerial ? DEBUG_SERIAL_SIZE : 0), PYMEM_DEADBYTE, skip);
}

/**
 * CPython's per-heap `debug_offset` (`tstate_mimalloc_bind`, `Python/pystate.c`), measured from the
 * block start: how many leading bytes of a block the debug fills must not overwrite.
 *
 *   MEM            0
 *   OBJECT, GC     obTypeOffset (+ DEBUG_HEADER_SIZE when the debug hooks are enabled)
 *   GC_PRE         the same + preheaderSize
 *
 * @param obTypeOffset - `offsetof(PyObject, ob_type)`: the header bytes before `ob_type`
 *   (`ob_tid`, flags, mutex, gc bits, refcounts), passed by @ft/gc, which owns the object layout.
 * @param preheaderSize - the size of the GC pre-header (managed dict and weakref words).
 * @param debugEnabled - whether the debug hooks sit anywhere in the allocator chain.
 */
export function heapDebugOffset(
  tag: HeapTag,
  obTypeOffset: number,
  preheaderSize: number,
  debugEnabled: boolean,
): number {
  checkHeapTag(tag);
  for (const [name, value] of [["obTypeOffset", obTypeOffset], ["preheaderSize", preheaderSize]] as const) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`heapDebugOffset: ${name} must be a non-negative integer, got ${String(value)}`);
    }
  }
  if (tag === HeapTag.MEM) return 0;
  const base = obTypeOffset + (debugEnabled ? DEBUG_HEADER_SIZE : 0);
  return tag === HeapTag.GC_PRE ? base + preheaderSize : base;
}

/**
 * The `skip` to pass to {@link fillData} for a block of API `apiId` on a heap whose
 * {@link heapDebugOffset} is `debugOffset`: only object blocks (`'o'`) keep their leading bytes;
 * the data-relative skip is `debugOffset - DEBUG_HEADER_SIZE` (CPython: `debug_offset -= 2*SST`).
 */
export function debugFillSkip(apiId: ApiId, debugOffset: number): number {
  if (apiId !== "o") return 0;
  const skip = debugOffset - DEBUG_HEADER_SIZE;
  return Math.max(skip, 0);
}

/** The four ways a debug block can be found broken by {@link checkPads}. */
export type DebugBlockFaultKind = "freed" | "bad-id" | "bad-leading-pad" | "bad-trailing-pad";

/** A broken debug block: what {@link checkPads} found, with CPython's wording in `message`. */
export type DebugBlockFault =
  | {
      /** The API id and leading pad are DEADBYTE: the block was already freed (use after free, double free). */
      readonly kind: "freed";
      readonly p: number;
      readonly message: string;
    }
  | {
      /** The block was allocated through another domain than the one verifying it. */
      readonly kind: "bad-id";
      readonly p: number;
      /** The id byte found in the header, as a character. */
      readonly allocatedApi: string;
      /** The API of the domain that checked the block. */
      readonly verifiedApi: ApiId;
      readonly message: string;
    }
  | {
      /** A leading pad byte was overwritten (buffer underflow). */
      readonly kind: "bad-leading-pad";
      readonly p: number;
      /** Offsets from `p` of the damaged bytes, most negative first (e.g. `[-3, -1]`). */
      readonly badOffsets: readonly number[];
      readonly message: string;
    }
  | {
      /** A trailing pad byte was overwritten (buffer overflow). */
      readonly kind: "bad-trailing-pad";
      readonly p: number;
      /** `p + requestedSize`. */
      readonly tail: number;
      readonly requestedSize: number;
      /** Offsets from `tail` (0..7) of the damaged bytes; bytes past the buffer count as damaged. */
      readonly badOffsets: readonly number[];
      readonly message: string;
    };

/**
 * Check a debug block as CPython's `_PyMem_DebugCheckAddress` does, in the same order: the API id
 * (when `apiId` is given), then the leading pad (before trusting the size), then the trailing pad.
 * A block whose API id and leading pad are DEADBYTE is reported as `freed` before anything else.
 *
 * @returns `null` for a sound block, else the first fault found. Never throws on corrupt data:
 *   a size that points past the buffer is reported as a bad trailing pad.
 */
export function checkPads(u8: Uint8Array, p: number, apiId?: ApiId): DebugBlockFault | null {
  if (__DEBUG__)
    assert(p >= DEBUG_HEADER_SIZE && p <= u8.length, "checked block's header must lie inside the buffer");
  const q = p - DEBUG_HEADER_SIZE;
  if (isDeadHeader(u8, q)) {
    return { kind: "freed", p, message: FREED_MESSAGE };
  }
  const id = u8[q + DEBUG_API_ID_OFFSET];
  if (apiId !== undefined && id !== apiId.charCodeAt(0)) {
    const allocatedApi = String.fromCharCode(id);
    return {
      kind: "bad-id",
      p,
      allocatedApi,
      verifiedApi: apiId,
      message: `bad ID: Allocated using API '${allocatedApi}', verified using API '${apiId}'`,
    };
  }
  const leading = badLeadingOffsets(u8, p);
  if (leading.length > 0) {
    return { kind: "bad-leading-pad", p, badOffsets: leading, message: "bad leading pad byte" };
  }
  const requestedSize = readRequestedSize(u8, p);
  const tail = p + requestedSize;
  const trailing = badTrailingOffsets(u8, tail);
  if (trailing.length > 0) {
    return {
      kind: "bad-trailing-pad",
      p,
      tail,
      requestedSize,
      badOffsets: trailing,
      message: "bad trailing pad byte",
    };
  }
  return null;
}

const FREED_MESSAGE = "block already freed: its header is DEADBYTE (0xdd), a use after free or a double free";

/** Offsets `-7 .. -1` from `p` whose byte is not FORBIDDENBYTE, in that order. */
export function badLeadingOffsets(u8: Uint8Array, p: number): number[] {
  const bad: number[] = [];
  for (let i = DEBUG_LEADING_PAD_SIZE; i >= 1; --i) {
    if (u8[p - i] !== PYMEM_FORBIDDENBYTE) bad.push(-i);
  }
  return bad;
}

/** Offsets `0 .. 7` from `tail` whose byte is not FORBIDDENBYTE (or lies past the buffer). */
export function badTrailingOffsets(u8: Uint8Array, tail: number): number[] {
  const bad: number[] = [];
  for (let i = 0; i < DEBUG_TRAILER_SIZE; ++i) {
    if (u8[tail + i] !== PYMEM_FORBIDDENBYTE) bad.push(i);
  }
  return bad;
}

/**
 * Whether the block at `q` was freed: its API id and leading pad are DEADBYTE. (The size word is
 * not looked at: once the block is back in the wrapped allocator, its free list link overwrites
 * the first word of the block.)
 */
function isDeadHeader(u8: Uint8Array, q: number): boolean {
  for (let i = DEBUG_API_ID_OFFSET; i < DEBUG_HEADER_SIZE; ++i) {
    if (u8[q + i] !== PYMEM_DEADBYTE) return false;
  }
  return true;
}

/** Write `n` as a big-endian size_t, most significant byte at `at` (CPython's `write_size_t`). */
function writeSizeT(u8: Uint8Array, at: number, n: number): void {
  for (let i = DEBUG_WORD_SIZE - 1; i >= 0; --i) {
    u8[at + i] = n % 256;
    n = Math.floor(n / 256);
  }
}

/** Read a big-endian size_t at `at` (CPython's `read_size_t`); bytes past the buffer read as 0. */
function readSizeT(u8: Uint8Array, at: number): number {
  let n = 0;
  for (let i = 0; i < DEBUG_WORD_SIZE; ++i) n = n * 256 + (at + i < u8.length ? u8[at + i] : 0);
  return n;
}

/**
 * CPython's `_PyMem_IsPtrFreed` for ft's 32-bit pointers: NULL, or a pointer made of debug fill
 * bytes — one read from uninitialised (CLEANBYTE), freed (DEADBYTE) or pad (FORBIDDENBYTE) memory.
 */
export function isPtrFreed(ptr: number): boolean {
  return ptr === 0 || ptr === 0xcdcdcdcd || ptr === 0xdddddddd || ptr === 0xfdfdfdfd;
}

/**
 * CPython's `_PyObject_IsFreed`: whether the object at `op` looks freed or never initialised —
 * `op` itself or its `ob_type` word (little-endian u32 at `op + obTypeOffset`) is
 * {@link isPtrFreed}. A debugging aid for dumps and assertions, as CPython's.
 *
 * @param obTypeOffset - where the header keeps `ob_type` (@ft/gc's `OB_TYPE_OFFSET`). @defaultValue 16
 */
export function objectIsFreed(u8: Uint8Array, op: number, obTypeOffset = 16): boolean {
  if (isPtrFreed(op)) return true;
  const at = op + obTypeOffset;
  if (at < 0 || at + 4 > u8.length) return true;
  const type = (u8[at]! | (u8[at + 1]! << 8) | (u8[at + 2]! << 16) | (u8[at + 3]! << 24)) >>> 0;
  return isPtrFreed(type);
}
