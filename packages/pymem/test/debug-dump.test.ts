import { describe, expect, it } from "vitest";
import {
  checkPads,
  DEBUG_TRAILER_SIZE,
  decorateDebugBlock,
  formatDebugDump,
  formatFatalError,
  formatPointer,
  TRACEMALLOC_HINT,
} from "../src/index.ts";

function block(size: number, api: "r" | "m" | "o", p: number, serial?: number): Uint8Array {
  const u8 = new Uint8Array(p + size + DEBUG_TRAILER_SIZE + 16);
  decorateDebugBlock(u8, p, size, api, true, 0, serial);
  return u8;
}

/** CPython's Lib/test/test_capi/test_mem.py regexes, with Python's `{ptr}` and `\(` spelled for JS. */
const PTR = "(?:0x)?[0-9a-fA-F]+";
const BUFFER_OVERFLOW_RE = new RegExp(
  `Debug memory block at address p=${PTR}: API 'm'\\n` +
    "    16 bytes originally requested\\n" +
    "    The [0-9] pad bytes at p-[0-9] are FORBIDDENBYTE, as expected.\\n" +
    `    The [0-9] pad bytes at tail=${PTR} are not all FORBIDDENBYTE \\(0x[0-9a-f]{2}\\):\\n` +
    "        at tail\\+0: 0x78 \\*\\*\\* OUCH\\n" +
    "        at tail\\+1: 0xfd\\n" +
    "        at tail\\+2: 0xfd\\n" +
    "        [^]*\\n" +
    "(    The block was made by call #[0-9]+ to debug malloc/realloc.\\n)?" +
    "    Data at p: cd cd cd [^]*\\n" +
    "\\n" +
    "Enable tracemalloc to get the memory block allocation traceback\\n" +
    "\\n" +
    "Fatal Python error: _PyMem_DebugRawFree: bad trailing pad byte",
);
const API_MISUSE_RE = new RegExp(
  `Debug memory block at address p=${PTR}: API 'm'\\n` +
    "    16 bytes originally requested\\n" +
    "    The [0-9] pad bytes at p-[0-9] are FORBIDDENBYTE, as expected.\\n" +
    `    The [0-9] pad bytes at tail=${PTR} are FORBIDDENBYTE, as expected.\\n` +
    "(    The block was made by call #[0-9]+ to debug malloc/realloc.\\n)?" +
    "    Data at p: cd cd cd .*\\n" +
    "\\n" +
    "Enable tracemalloc to get the memory block allocation traceback\\n" +
    "\\n" +
    "Fatal Python error: _PyMem_DebugRawFree: bad ID: Allocated using API 'm', verified using API 'r'\\n",
);

describe("debug block dump", () => {
  it("formats pointers as glibc's %p", () => {
    expect(formatPointer(0x50)).toBe("0x50");
    expect(formatPointer(0xdeadbee0)).toBe("0xdeadbee0");
    expect(formatPointer(0)).toBe("(nil)");
  });

  it("shows an overflow with the exact lines of _PyObject_DebugDumpAddress", () => {
    const p = 0x50;
    const u8 = block(16, "m", p);
    u8[p + 16] = 0x78; // pymem_buffer_overflow(): buffer[16] = 'x'
    expect(formatDebugDump(u8, p)).toBe(
      [
        "Debug memory block at address p=0x50: API 'm'",
        "    16 bytes originally requested",
        "    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.",
        "    The 8 pad bytes at tail=0x60 are not all FORBIDDENBYTE (0xfd):",
        "        at tail+0: 0x78 *** OUCH",
        "        at tail+1: 0xfd",
        "        at tail+2: 0xfd",
        "        at tail+3: 0xfd",
        "        at tail+4: 0xfd",
        "        at tail+5: 0xfd",
        "        at tail+6: 0xfd",
        "        at tail+7: 0xfd",
        "    Data at p: cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd",
        "",
        "Enable tracemalloc to get the memory block allocation traceback",
        "",
        "",
      ].join("\n"),
    );
  });

  it("matches CPython's test_buffer_overflow regex, fatal line included", () => {
    const p = 0x50;
    const u8 = block(16, "m", p);
    u8[p + 16] = 0x78;
    const fault = checkPads(u8, p, "m");
    expect(fault).not.toBeNull();
    const stderr = formatDebugDump(u8, p) + formatFatalError("_PyMem_DebugRawFree", fault!);
    expect(stderr).toMatch(BUFFER_OVERFLOW_RE);
  });

  it("matches CPython's test_api_misuse regex for a MEM block freed as RAW", () => {
    const p = 0x50;
    const u8 = block(16, "m", p);
    const fault = checkPads(u8, p, "r");
    expect(fault?.message).toBe("bad ID: Allocated using API 'm', verified using API 'r'");
    const stderr = `${formatDebugDump(u8, p) + formatFatalError("_PyMem_DebugRawFree", fault!)}\n`;
    expect(stderr).toMatch(API_MISUSE_RE);
  });

  it("lists the leading pad byte by byte after an underflow and warns that the size may be bogus", () => {
    const p = 0x20;
    const u8 = block(4, "o", p);
    u8[p - 1] = 0x78;
    expect(formatDebugDump(u8, p)).toBe(
      [
        "Debug memory block at address p=0x20: API 'o'",
        "    4 bytes originally requested",
        "    The 7 pad bytes at p-7 are not all FORBIDDENBYTE (0xfd):",
        "        at p-7: 0xfd",
        "        at p-6: 0xfd",
        "        at p-5: 0xfd",
        "        at p-4: 0xfd",
        "        at p-3: 0xfd",
        "        at p-2: 0xfd",
        "        at p-1: 0x78 *** OUCH",
        "    Because memory is corrupted at the start, the count of bytes requested",
        "       may be bogus, and checking the trailing pad bytes may segfault.",
        "    The 8 pad bytes at tail=0x24 are FORBIDDENBYTE, as expected.",
        "    Data at p: cd cd cd cd",
        "",
        "Enable tracemalloc to get the memory block allocation traceback",
        "",
        "",
      ].join("\n"),
    );
  });

  it("prints the first and last 8 data bytes of a long block around an ellipsis", () => {
    const p = 0x10;
    const u8 = block(20, "m", p);
    for (let i = 0; i < 20; i++) u8[p + i] = i;
    expect(formatDebugDump(u8, p)).toContain(
      "    Data at p: 00 01 02 03 04 05 06 07 ... 0c 0d 0e 0f 10 11 12 13\n",
    );
  });

  it("prints no data line for an empty block", () => {
    const u8 = block(0, "r", 0x10);
    expect(formatDebugDump(u8, 0x10)).toBe(
      "Debug memory block at address p=0x10: API 'r'\n" +
        "    0 bytes originally requested\n" +
        "    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.\n" +
        "    The 8 pad bytes at tail=0x10 are FORBIDDENBYTE, as expected.\n" +
        "\n" +
        TRACEMALLOC_HINT,
    );
  });

  it("reports the serial number of blocks made with PYMEM_DEBUG_SERIALNO", () => {
    const u8 = block(2, "m", 0x10, 42);
    expect(formatDebugDump(u8, 0x10, { serialNumber: true })).toContain(
      "    The 8 pad bytes at tail=0x12 are FORBIDDENBYTE, as expected.\n" +
        "    The block was made by call #42 to debug malloc/realloc.\n" +
        "    Data at p: cd cd\n",
    );
  });

  it("prints the allocation traceback a tracing hook supplies, or nothing when it has none", () => {
    const u8 = block(1, "m", 0x10);
    const traceback = [
      { filename: "a.js", lineno: 3 },
      { filename: "b.js", lineno: 10 },
    ];
    expect(formatDebugDump(u8, 0x10, { traceback })).toMatch(
      /cd\n\nMemory block allocated at \(most recent call first\):\n {2}File "a\.js", line 3\n {2}File "b\.js", line 10\n\n$/,
    );
    expect(formatDebugDump(u8, 0x10, { traceback: null })).toMatch(/Data at p: cd\n\n$/);
  });

  it("prints only the address line for NULL", () => {
    expect(formatDebugDump(new Uint8Array(8), 0)).toBe("Debug memory block at address p=(nil):\n");
  });

  it("does not read past the buffer when a corrupt size points outside it", () => {
    const u8 = block(4, "m", 0x10);
    u8[0x10 - 10] = 0x01; // size = 2^8 + 4
    const dump = formatDebugDump(u8, 0x10);
    expect(dump).toContain("    260 bytes originally requested\n");
    expect(dump).toContain("        at tail+0: <out of bounds> *** OUCH\n");
    expect(dump).toContain(" ... ?? ?? ?? ?? ?? ?? ?? ??\n");
  });
});
