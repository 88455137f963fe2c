/**
 * The text CPython's debug hooks print about a broken block: `_PyObject_DebugDumpAddress`
 * (`Objects/obmalloc.c`) followed by `_PyMem_DumpTraceback` (`Python/tracemalloc.c`), and the
 * `Fatal Python error: <func>: <reason>` line of `_Py_FatalErrorFunc`. Same wording, same
 * spacing, so that CPython's `test_capi.test_mem` regexes match ft's output.
 */
import {
  badLeadingOffsets,
  badTrailingOffsets,
  DEBUG_LEADING_PAD_SIZE,
  DEBUG_TRAILER_SIZE,
  type DebugBlockFault,
  PYMEM_FORBIDDENBYTE,
  readApiId,
  readRequestedSize,
  readSerialNumber,
} from "./debug-layout.ts";

/** One frame of an allocation traceback, as tracemalloc records it. */
export interface TracebackFrame {
  readonly filename: string;
  readonly lineno: number;
}

/** How to dump a block. */
export interface DebugDumpOptions {
  /**
   * The block carries a serial number after its trailing pad (`PYMEM_DEBUG_SERIALNO`).
   * @defaultValue false
   */
  readonly serialNumber?: boolean;
  /**
   * The block's allocation traceback, most recent call first, from a tracing hook. `undefined`
   * means nothing traces allocations (CPython prints its hint to enable tracemalloc); `null`
   * means tracing is on but this block has no trace (CPython prints nothing).
   * @defaultValue undefined
   */
  readonly traceback?: readonly TracebackFrame[] | null;
}

/** What CPython prints in place of a traceback when tracemalloc is not tracing. */
export const TRACEMALLOC_HINT = "Enable tracemalloc to get the memory block allocation traceback\n\n";

/** Format a pointer as glibc's `%p` does: `0x` and lowercase hex, `(nil)` for NULL. */
export function formatPointer(p: number): string {
  return p === 0 ? "(nil)" : `0x${p.toString(16)}`;
}

/**
 * The dump of the debug block whose data is at `p`, exactly as CPython writes it to stderr:
 *
 *     Debug memory block at address p=0x50: API 'm'
 *         16 bytes originally requested
 *         The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.
 *         The 8 pad bytes at tail=0x60 are not all FORBIDDENBYTE (0xfd):
 *             at tail+0: 0x78 *** OUCH
 *             at tail+1: 0xfd
 *             …
 *         Data at p: cd cd cd cd cd cd cd cd ... cd cd cd cd cd cd cd cd
 *
 *     Enable tracemalloc to get the memory block allocation traceback
 *
 * Bytes that a corrupt size places past the end of the buffer print as `<out of bounds>` (where
 * CPython would read wild memory).
 */
export function formatDebugDump(u8: Uint8Array, p: number, options: DebugDumpOptions = {}): string {
  let out = `Debug memory block at address p=${formatPointer(p)}:`;
  if (p === 0) return `${out}\n`;
  out += ` API '${readApiId(u8, p)}'\n`;

  const nbytes = readRequestedSize(u8, p);
  out += `    ${nbytes} bytes originally requested\n`;

  // In case the size is nuts, check the leading pad bytes first.
  out += `    The ${DEBUG_LEADING_PAD_SIZE} pad bytes at p-${DEBUG_LEADING_PAD_SIZE} are `;
  if (badLeadingOffsets(u8, p).length === 0) {
    out += "FORBIDDENBYTE, as expected.\n";
  } else {
    out += `not all FORBIDDENBYTE (${hexByte(PYMEM_FORBIDDENBYTE)}):\n`;
    for (let i = DEBUG_LEADING_PAD_SIZE; i >= 1; --i) out += padLine(`p-${i}`, u8, p - i);
    out +=
      "    Because memory is corrupted at the start, the count of bytes requested\n" +
      "       may be bogus, and checking the trailing pad bytes may segfault.\n";
  }

  const tail = p + nbytes;
  out += `    The ${DEBUG_TRAILER_SIZE} pad bytes at tail=${formatPointer(tail)} are `;
  if (badTrailingOffsets(u8, tail).length === 0) {
    out += "FORBIDDENBYTE, as expected.\n";
  } else {
    out += `not all FORBIDDENBYTE (${hexByte(PYMEM_FORBIDDENBYTE)}):\n`;
    for (let i = 0; i < DEBUG_TRAILER_SIZE; ++i) out += padLine(`tail+${i}`, u8, tail + i);
  }

  if (options.serialNumber) {
    out += `    The block was made by call #${readSerialNumber(u8, p)} to debug malloc/realloc.\n`;
  }

  if (nbytes > 0) {
    out += "    Data at p:";
    let q = p;
    // Up to 8 bytes at the start …
    for (let i = 0; q < tail && i < 8; ++i, ++q) out += ` ${dataByte(u8, q)}`;
    // … and up to 8 at the end.
    if (q < tail) {
      if (tail - q > 8) {
        out += " ...";
        q = tail - 8;
      }
      for (; q < tail; ++q) out += ` ${dataByte(u8, q)}`;
    }
    out += "\n";
  }
  out += "\n";
  return out + formatTraceback(options.traceback);
}

/**
 * The line CPython's `_Py_FatalErrorFunc` prints for a fault found by `func`, e.g.
 * `Fatal Python error: _PyMem_DebugRawFree: bad trailing pad byte`.
 */
export function formatFatalError(func: string, fault: DebugBlockFault): string {
  return `Fatal Python error: ${func}: ${fault.message}`;
}

/** `_PyMem_DumpTraceback`'s text for a block's allocation traceback. */
function formatTraceback(traceback: readonly TracebackFrame[] | null | undefined): string {
  if (traceback === undefined) return TRACEMALLOC_HINT;
  if (traceback === null) return "";
  let out = "Memory block allocated at (most recent call first):\n";
  for (const frame of traceback) out += `  File "${frame.filename}", line ${frame.lineno}\n`;
  return `${out}\n`;
}

function padLine(label: string, u8: Uint8Array, at: number): string {
  const byte = byteAt(u8, at);
  if (byte === undefined) return `        at ${label}: <out of bounds> *** OUCH\n`;
  return `        at ${label}: ${hexByte(byte)}${byte !== PYMEM_FORBIDDENBYTE ? " *** OUCH" : ""}\n`;
}

/** `0x%02x` */
function hexByte(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/** `%02x`, or `??` for a byte past the buffer. */
function dataByte(u8: Uint8Array, at: number): string {
  const byte = byteAt(u8, at);
  return byte === undefined ? "??" : byte.toString(16).padStart(2, "0");
}

/** The byte at `at`, or `undefined` past either end of the buffer. */
function byteAt(u8: Uint8Array, at: number): number | undefined {
  return at >= 0 && at < u8.length ? u8[at] : undefined;
}
