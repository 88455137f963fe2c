import { describe, expect, it } from "vitest";
import {
  checkPads,
  DEBUG_API_ID_OFFSET,
  DEBUG_EXTRA_BYTES,
  DEBUG_EXTRA_BYTES_SERIAL,
  DEBUG_HEADER_SIZE,
  DEBUG_LEADING_PAD_OFFSET,
  DEBUG_LEADING_PAD_SIZE,
  DEBUG_SERIAL_SIZE,
  DEBUG_SIZE_OFFSET,
  DEBUG_TRAILER_SIZE,
  DEBUG_WORD_SHIFT,
  DEBUG_WORD_SIZE,
  debugBlockStart,
  debugDataPointer,
  debugFillSkip,
  decorateDebugBlock,
  fillData,
  HeapTag,
  heapDebugOffset,
  markDebugBlockFreed,
  PYMEM_CLEANBYTE,
  PYMEM_DEADBYTE,
  PYMEM_FORBIDDENBYTE,
  readApiId,
  readRequestedSize,
  readSerialNumber,
  writeDebugHeader,
  writeDebugTrailer,
} from "../src/index.ts";

const FD = PYMEM_FORBIDDENBYTE;
const CD = PYMEM_CLEANBYTE;
const DD = PYMEM_DEADBYTE;

/** A buffer holding one debug block whose data starts at `p`. */
function block(size: number, api: "r" | "m" | "o" = "m", p = 32): { u8: Uint8Array; p: number } {
  const u8 = new Uint8Array(p + size + DEBUG_TRAILER_SIZE + 32);
  decorateDebugBlock(u8, p, size, api);
  return { u8, p };
}

describe("debug block layout", () => {
  it("derives every field size from SST = 8 (the #error checks)", () => {
    expect(DEBUG_WORD_SIZE).toBe(1 << DEBUG_WORD_SHIFT);
    expect(DEBUG_WORD_SIZE).toBe(8);
    expect(DEBUG_SIZE_OFFSET).toBe(0);
    expect(DEBUG_API_ID_OFFSET).toBe(DEBUG_WORD_SIZE);
    expect(DEBUG_LEADING_PAD_OFFSET).toBe(DEBUG_API_ID_OFFSET + 1);
    expect(DEBUG_LEADING_PAD_SIZE).toBe(DEBUG_WORD_SIZE - 1);
    expect(DEBUG_LEADING_PAD_OFFSET + DEBUG_LEADING_PAD_SIZE).toBe(DEBUG_HEADER_SIZE);
    expect(DEBUG_HEADER_SIZE).toBe(16);
    expect(DEBUG_TRAILER_SIZE).toBe(8);
    expect(DEBUG_SERIAL_SIZE).toBe(8);
    expect(DEBUG_EXTRA_BYTES).toBe(3 * DEBUG_WORD_SIZE);
    expect(DEBUG_EXTRA_BYTES_SERIAL).toBe(4 * DEBUG_WORD_SIZE);
    // The header keeps the data 8-aligned when the wrapped allocator returns 8-aligned blocks.
    expect(DEBUG_HEADER_SIZE % 8).toBe(0);
  });

  it("uses the Windows CRT fill bytes, as CPython does", () => {
    expect([FD, CD, DD]).toEqual([0xfd, 0xcd, 0xdd]);
  });

  it("maps data pointers to block starts and back", () => {
    expect(debugBlockStart(48)).toBe(32);
    expect(debugDataPointer(32)).toBe(48);
  });

  it("writes the requested size big-endian before the API id", () => {
    const u8 = new Uint8Array(64);
    writeDebugHeader(u8, 16, 0x0102, "m");
    expect([...u8.subarray(0, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x6d, FD, FD, FD, FD, FD, FD, FD]);
    expect(readRequestedSize(u8, 16)).toBe(0x0102);
    expect(readApiId(u8, 16)).toBe("m");
  });

  it("round-trips sizes beyond 32 bits", () => {
    const u8 = new Uint8Array(32);
    writeDebugHeader(u8, 16, 2 ** 40 + 5, "r");
    expect([...u8.subarray(0, 8)]).toEqual([0, 0, 0x01, 0, 0, 0, 0, 0x05]);
    expect(readRequestedSize(u8, 16)).toBe(2 ** 40 + 5);
  });

  it("puts eight FORBIDDENBYTEs at tail = p + size and the serial number after them", () => {
    const u8 = new Uint8Array(48);
    writeDebugTrailer(u8, 16, 4, 0x0a0b);
    expect([...u8.subarray(20, 28)]).toEqual([FD, FD, FD, FD, FD, FD, FD, FD]);
    expect([...u8.subarray(28, 36)]).toEqual([0, 0, 0, 0, 0, 0, 0x0a, 0x0b]);
    expect(u8[36]).toBe(0);
  });

  it("lays out a fresh 5-byte block exactly as obmalloc.c's comment", () => {
    const u8 = new Uint8Array(16 + 5 + 8 + 8);
    decorateDebugBlock(u8, 16, 5, "o", true, 0, 7);
    expect([...u8]).toEqual([
      ...[0, 0, 0, 0, 0, 0, 0, 5], // S: size
      0x6f, // I: 'o'
      ...[FD, FD, FD, FD, FD, FD, FD], // F: leading pad
      ...[CD, CD, CD, CD, CD], // C: data
      ...[FD, FD, FD, FD, FD, FD, FD, FD], // F: trailing pad
      ...[0, 0, 0, 0, 0, 0, 0, 7], // N: serial number
    ]);
    expect(readSerialNumber(u8, 16)).toBe(7);
  });

  it("leaves calloc'd data zero", () => {
    const u8 = new Uint8Array(64);
    decorateDebugBlock(u8, 16, 8, "r", false);
    expect([...u8.subarray(16, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(checkPads(u8, 16, "r")).toBeNull();
  });
});

describe("debug fills and debugOffset", () => {
  it("fills the data from `skip` on and leaves the first bytes alone", () => {
    const u8 = new Uint8Array(16);
    fillData(u8, 4, 8, 0xab, 3);
    expect([...u8]).toEqual([0, 0, 0, 0, 0, 0, 0, 0xab, 0xab, 0xab, 0xab, 0xab, 0, 0, 0, 0]);
  });

  it("writes nothing when the skip covers the whole block", () => {
    const u8 = new Uint8Array(16);
    fillData(u8, 4, 8, 0xab, 8);
    fillData(u8, 4, 8, 0xab, 100);
    expect(u8.every((b) => b === 0)).toBe(true);
  });

  it("gives each heap CPython's debug_offset: 0 for MEM, ob_type's offset for objects, plus the pre-header", () => {
    const obTypeOffset = 16;
    const preheader = 8;
    expect(heapDebugOffset(HeapTag.MEM, obTypeOffset, preheader, true)).toBe(0);
    expect(heapDebugOffset(HeapTag.OBJECT, obTypeOffset, preheader, true)).toBe(16 + DEBUG_HEADER_SIZE);
    expect(heapDebugOffset(HeapTag.GC, obTypeOffset, preheader, true)).toBe(16 + DEBUG_HEADER_SIZE);
    expect(heapDebugOffset(HeapTag.GC_PRE, obTypeOffset, preheader, true)).toBe(16 + DEBUG_HEADER_SIZE + 8);
    expect(heapDebugOffset(HeapTag.GC_PRE, obTypeOffset, preheader, false)).toBe(16 + 8);
  });

  it("skips leading data bytes only for object blocks", () => {
    expect(debugFillSkip("o", 40)).toBe(40 - DEBUG_HEADER_SIZE);
    expect(debugFillSkip("m", 40)).toBe(0);
    expect(debugFillSkip("r", 40)).toBe(0);
    expect(debugFillSkip("o", 0)).toBe(0);
  });

  it("keeps an object's ob_tid and refcount words readable after free", () => {
    const skip = debugFillSkip("o", heapDebugOffset(HeapTag.GC, 16, 8, true));
    expect(skip).toBe(16);
    const u8 = new Uint8Array(16 + 24 + 8);
    decorateDebugBlock(u8, 16, 24, "o", true, skip);
    // CLEANBYTE only after the skipped header bytes, which the object initialises itself.
    expect([...u8.subarray(16, 32)]).toEqual(new Array(16).fill(0));
    expect([...u8.subarray(32, 40)]).toEqual(new Array(8).fill(CD));
    u8.fill(0x11, 16, 32); // ob_tid, flags, refcounts
    markDebugBlockFreed(u8, 16, skip);
    expect([...u8.subarray(0, 16)]).toEqual(new Array(16).fill(DD));
    expect([...u8.subarray(16, 32)]).toEqual(new Array(16).fill(0x11));
    expect([...u8.subarray(32, 48)]).toEqual(new Array(16).fill(DD)); // rest of data + trailer
  });

  it("kills header, data, trailer and serial of a freed MEM block", () => {
    const u8 = new Uint8Array(16 + 4 + 16);
    decorateDebugBlock(u8, 16, 4, "m", true, 0, 3);
    markDebugBlockFreed(u8, 16, 0, true);
    expect(u8.every((b) => b === DD)).toBe(true);
  });
});

describe("checkPads", () => {
  it("accepts a sound block verified by the API that allocated it", () => {
    const { u8, p } = block(16, "m");
    expect(checkPads(u8, p, "m")).toBeNull();
    expect(checkPads(u8, p)).toBeNull();
  });

  it("reports an overflow as a bad trailing pad at the damaged offsets", () => {
    const { u8, p } = block(16, "m");
    u8[p + 16] = 0x78; // 'x', one past the end
    u8[p + 19] = 0;
    expect(checkPads(u8, p, "m")).toEqual({
      kind: "bad-trailing-pad",
      p,
      tail: p + 16,
      requestedSize: 16,
      badOffsets: [0, 3],
      message: "bad trailing pad byte",
    });
  });

  it("reports an underflow as a bad leading pad", () => {
    const { u8, p } = block(16, "m");
    u8[p - 1] = 0x78;
    u8[p - 7] = 0;
    expect(checkPads(u8, p, "m")).toEqual({
      kind: "bad-leading-pad",
      p,
      badOffsets: [-7, -1],
      message: "bad leading pad byte",
    });
  });

  it("names both APIs when a block is freed through the wrong domain", () => {
    const { u8, p } = block(16, "m");
    const fault = checkPads(u8, p, "r");
    expect(fault).toEqual({
      kind: "bad-id",
      p,
      allocatedApi: "m",
      verifiedApi: "r",
      message: "bad ID: Allocated using API 'm', verified using API 'r'",
    });
  });

  it("checks the API id first, then the leading pad, then the trailing pad (CPython's order)", () => {
    const { u8, p } = block(16, "o");
    u8[p + 16] = 0;
    u8[p - 2] = 0;
    expect(checkPads(u8, p, "m")?.kind).toBe("bad-id");
    expect(checkPads(u8, p, "o")?.kind).toBe("bad-leading-pad");
    u8[p - 2] = FD;
    expect(checkPads(u8, p, "o")?.kind).toBe("bad-trailing-pad");
  });

  it("recognises a block that was already freed", () => {
    const { u8, p } = block(16, "m");
    markDebugBlockFreed(u8, p);
    const fault = checkPads(u8, p, "m");
    expect(fault?.kind).toBe("freed");
    expect(fault?.message).toMatch(/already freed/);
  });

  it("does not throw when a corrupt size points past the buffer", () => {
    const { u8, p } = block(16, "m");
    u8[p - 16] = 0x7f; // size becomes ~2^62
    const fault = checkPads(u8, p, "m");
    expect(fault?.kind).toBe("bad-trailing-pad");
    expect(fault?.kind === "bad-trailing-pad" && fault.badOffsets).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
