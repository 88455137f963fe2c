/**
 * The byte form of a shareable value in a queue item, so that an item put in one worker can be
 * taken in another through the arena alone (no message passing).
 *
 *   tag  value                                   then
 *   ---  --------------------------------------  ------------------------------------------------
 *    0   undefined
 *    1   null
 *    2   false
 *    3   true
 *    4   number                                  f64
 *    5   bigint                                  u32 length, then its base-16 digits (ASCII, "-" first if negative)
 *    6   string                                  u32 length, then UTF-16 code units
 *    7   tuple (frozen array)                    u32 count, then the items
 *    8   the runtime's arena buffer
 *    9   a typed array on the arena buffer       u8 kind, u32 byteOffset, u32 length
 *   10   a DataView on the arena buffer          u32 byteOffset, u32 byteLength
 *   11   a queue                                 u32 id
 *
 * Little-endian. Another SharedArrayBuffer cannot cross workers through shared memory (a worker
 * can only get a SharedArrayBuffer object by a message), so queues carry only the arena's.
 */
import { NotShareableError } from "./errors.ts";
import { SHAREABLE_BRAND } from "./shareable.ts";

const TAG_UNDEFINED = 0;
const TAG_NULL = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_NUMBER = 4;
const TAG_BIGINT = 5;
const TAG_STRING = 6;
const TAG_TUPLE = 7;
const TAG_ARENA = 8;
const TAG_TYPED_ARRAY = 9;
const TAG_DATA_VIEW = 10;
const TAG_QUEUE = 11;

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const TYPED_ARRAY_NAMES: readonly string[] = TYPED_ARRAYS.map((c) => c.name);

/** What the codec needs from its runtime: the arena buffer, and queues by id. */
export interface CodecContext {
  readonly buffer: SharedArrayBuffer;
  queueId(value: object): number | undefined;
  queueById(id: number): unknown;
}

/** A growable little-endian writer. */
class Writer {
  bytes = new Uint8Array(64);
  view = new DataView(this.bytes.buffer);
  length = 0;

  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + n));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = at + n;
    return at;
  }
  u8(v: number): void {
    this.view.setUint8(this.reserve(1), v);
  }
  u32(v: number): void {
    this.view.setUint32(this.reserve(4), v, true);
  }
  f64(v: number): void {
    this.view.setFloat64(this.reserve(8), v, true);
  }
  utf16(s: string): void {
    this.u32(s.length);
    const at = this.reserve(s.length * 2);
    for (let i = 0; i < s.length; i++) this.view.setUint16(at + 2 * i, s.charCodeAt(i), true);
  }
}

/**
 * Encode `value` (already checked shareable) to bytes.
 *
 * @throws NotShareableError for a SharedArrayBuffer that is not the arena's (or a view on one).
 */
export function encodeValue(ctx: CodecContext, value: unknown): Uint8Array {
  const w = new Writer();
  write(ctx, w, value);
  return w.bytes.subarray(0, w.length);
}

function write(ctx: CodecContext, w: Writer, value: unknown): void {
  switch (typeof value) {
    case "undefined":
      w.u8(TAG_UNDEFINED);
      return;
    case "boolean":
      w.u8(value ? TAG_TRUE : TAG_FALSE);
      return;
    case "number":
      w.u8(TAG_NUMBER);
      w.f64(value);
      return;
    case "bigint":
      w.u8(TAG_BIGINT);
      w.utf16(value.toString(16));
      return;
    case "string":
      w.u8(TAG_STRING);
      w.utf16(value);
      return;
  }
  if (value === null) {
    w.u8(TAG_NULL);
    return;
  }
  const obj = value as object;
  if (Array.isArray(obj)) {
    w.u8(TAG_TUPLE);
    w.u32(obj.length);
    for (const item of obj) write(ctx, w, item);
    return;
  }
  if (obj === ctx.buffer) {
    w.u8(TAG_ARENA);
    return;
  }
  if (ArrayBuffer.isView(obj)) {
    if (obj.buffer !== ctx.buffer) throw notArena(obj);
    if (obj instanceof DataView) {
      w.u8(TAG_DATA_VIEW);
      w.u32(obj.byteOffset);
      w.u32(obj.byteLength);
      return;
    }
    const kind = TYPED_ARRAY_NAMES.indexOf(Object.prototype.toString.call(obj).slice(8, -1));
    w.u8(TAG_TYPED_ARRAY);
    w.u8(kind);
    w.u32(obj.byteOffset);
    w.u32((obj as unknown as { length: number }).length);
    return;
  }
  const queueId =
    (obj as { [SHAREABLE_BRAND]?: unknown })[SHAREABLE_BRAND] === true ? ctx.queueId(obj) : undefined;
  if (queueId !== undefined) {
    w.u8(TAG_QUEUE);
    w.u32(queueId);
    return;
  }
  throw notArena(obj);
}

function notArena(obj: object): NotShareableError {
  const name = Object.prototype.toString.call(obj).slice(8, -1);
  return new NotShareableError(
    `<${name} object> does not support cross-interpreter data through a queue (a queue carries only the ` +
      "runtime's arena buffer and views on it: another SharedArrayBuffer cannot reach other workers through shared memory)",
  );
}

/** Decode the bytes `encodeValue` made. */
export function decodeValue(ctx: CodecContext, bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = { at: 0 };
  const value = read(ctx, view, r);
  if (r.at !== bytes.byteLength)
    throw new Error(`queue item: ${bytes.byteLength - r.at} bytes left after the value`);
  return value;
}

function read(ctx: CodecContext, v: DataView, r: { at: number }): unknown {
  const tag = v.getUint8(r.at++);
  switch (tag) {
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_NUMBER: {
      const n = v.getFloat64(r.at, true);
      r.at += 8;
      return n;
    }
    case TAG_BIGINT: {
      const s = readUtf16(v, r);
      return s.startsWith("-") ? -BigInt(`0x${s.slice(1)}`) : BigInt(`0x${s}`);
    }
    case TAG_STRING:
      return readUtf16(v, r);
    case TAG_TUPLE: {
      const n = v.getUint32(r.at, true);
      r.at += 4;
      const items = new Array<unknown>(n);
      for (let i = 0; i < n; i++) items[i] = read(ctx, v, r);
      return Object.freeze(items);
    }
    case TAG_ARENA:
      return ctx.buffer;
    case TAG_TYPED_ARRAY: {
      const kind = v.getUint8(r.at);
      const byteOffset = v.getUint32(r.at + 1, true);
      const length = v.getUint32(r.at + 5, true);
      r.at += 9;
      const Ctor = TYPED_ARRAYS[kind] as unknown as
        | (new (
            b: SharedArrayBuffer,
            o: number,
            n: number,
          ) => unknown)
        | undefined;
      if (Ctor === undefined) throw new Error(`queue item: unknown typed-array kind ${kind}`);
      return new Ctor(ctx.buffer, byteOffset, length);
    }
    case TAG_DATA_VIEW: {
      const byteOffset = v.getUint32(r.at, true);
      const byteLength = v.getUint32(r.at + 4, true);
      r.at += 8;
      return new DataView(ctx.buffer, byteOffset, byteLength);
    }
    case TAG_QUEUE: {
      const id = v.getUint32(r.at, true);
      r.at += 4;
      return ctx.queueById(id);
    }
    default:
      throw new Error(`queue item: unknown tag ${tag}`);
  }
}

function readUtf16(v: DataView, r: { at: number }): string {
  const n = v.getUint32(r.at, true);
  r.at += 4;
  let s = "";
  for (let i = 0; i < n; i += 4096) {
    const end = Math.min(n, i + 4096);
    const codes = new Array<number>(end - i);
    for (let j = i; j < end; j++) codes[j - i] = v.getUint16(r.at + 2 * j, true);
    s += String.fromCharCode(...codes);
  }
  r.at += 2 * n;
  return s;
}
