/**
 * Cross-interpreter queues (CPython's `concurrent.interpreters.Queue`, `Modules/_interpqueuesmodule.c`),
 * in the arena so that they work across workers with no message passing.
 *
 * Queue record (QUEUE_SIZE bytes, listed from the runtime record under HEAD_LOCK):
 *
 *   word  field          who writes it
 *    0    id             const (never reused)
 *    1    maxsize        const (<= 0: unbounded)
 *    2    xlock          ATOMIC: the queue's mutex (holder's thread id)
 *    3    xlockWaiters   ATOMIC
 *    4    count          lock
 *    5    first          lock: first item block
 *    6    last           lock: last item block
 *    7    xevent         ATOMIC: bumped and notified at every put and get (blocked callers sleep on it)
 *    8    unbound        const: the default `unbounditems` (UNBOUND_* op)
 *    9    next           HEAD_LOCK: the runtime's queue list
 *   10    xalive         ATOMIC: 1 until the runtime finalizes
 *
 * Item (a block of the arena's default heap of the putting thread; any thread frees it):
 *
 *   word 0 next | 1 origin interpreter id | 2 flags: unbound op, UNBOUND when its interpreter is gone
 *   | 3 payload bytes | payload: the value's byte form (`queue-codec.ts`)
 *
 * When an interpreter is destroyed, items it put are removed (UNBOUND_REMOVE) or marked (then
 * `get` returns {@link UNBOUND} or raises `ItemInterpreterDestroyed`), as CPython's
 * `_queueitem_clear_interpreter` does.
 */
import { ItemInterpreterDestroyed, pyTypeName, QueueEmpty, QueueFull, QueueNotFoundError } from "./errors.ts";
import { lockWord, unlockWord } from "./lock.ts";
import { type CodecContext, decodeValue, encodeValue } from "./queue-codec.ts";
import { field, RT_QUEUES, RT_XNEXT_QUEUE_ID } from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import { checkShareable, SHAREABLE_BRAND } from "./shareable.ts";

export const QUEUE_SIZE = 64;
const Q_ID = 0;
const Q_MAXSIZE = 1;
const Q_XLOCK = 2;
const Q_XLOCK_WAITERS = 3;
const Q_COUNT = 4;
const Q_FIRST = 5;
const Q_LAST = 6;
const Q_XEVENT = 7;
const Q_UNBOUND = 8;
const Q_NEXT = 9;
const Q_XALIVE = 10;

const ITEM_NEXT = 0;
const ITEM_INTERP = 1;
const ITEM_FLAGS = 2;
const ITEM_BYTES = 3;
const ITEM_HEADER = 16;
const ITEM_UNBOUND_OP_MASK = 0xff;
/** Item flag: its interpreter was destroyed; the payload is void. */
const ITEM_UNBOUND_MASK = 1 << 8;

const OP_REMOVE = 1;
const OP_ERROR = 2;
const OP_REPLACE = 3;

/** What `get` returns for an item whose interpreter was destroyed (put with `UNBOUND`, the default). */
export const UNBOUND: unique symbol = Symbol("UNBOUND");
/** `unbounditems`: `get` raises `ItemInterpreterDestroyed` for such an item. */
export const UNBOUND_ERROR: unique symbol = Symbol("UNBOUND_ERROR");
/** `unbounditems`: such an item is removed from the queue when its interpreter is destroyed. */
export const UNBOUND_REMOVE: unique symbol = Symbol("UNBOUND_REMOVE");

/** What happens to items whose interpreter is destroyed. */
export type UnboundItems = typeof UNBOUND | typeof UNBOUND_ERROR | typeof UNBOUND_REMOVE;

/** Options of `runtime.createQueue`. */
export interface QueueOptions {
  /** The default for `put`'s `unbounditems`. @defaultValue UNBOUND */
  unbounditems?: UnboundItems;
}

/** Options of `put`. */
export interface PutOptions {
  /** Wait while the queue is full. @defaultValue true */
  block?: boolean;
  /** Give up after this many milliseconds (then `QueueFull`); by default wait as long as it takes. */
  timeoutMs?: number;
  /** What `get` does with this item if the calling interpreter is destroyed first; by default the queue's. */
  unbounditems?: UnboundItems;
}

/** Options of `get`. */
export interface GetOptions {
  /** Wait while the queue is empty. @defaultValue true */
  block?: boolean;
  /** Give up after this many milliseconds (then `QueueEmpty`); by default wait as long as it takes. */
  timeoutMs?: number;
}

function opOf(unbound: unknown, fn: string): number {
  if (unbound === UNBOUND) return OP_REPLACE;
  if (unbound === UNBOUND_ERROR) return OP_ERROR;
  if (unbound === UNBOUND_REMOVE) return OP_REMOVE;
  throw new TypeError(
    `${fn}: unbounditems must be UNBOUND, UNBOUND_ERROR or UNBOUND_REMOVE, got ${String(unbound)}`,
  );
}

const UNBOUND_BY_OP: Record<number, UnboundItems> = {
  [OP_REMOVE]: UNBOUND_REMOVE,
  [OP_ERROR]: UNBOUND_ERROR,
  [OP_REPLACE]: UNBOUND,
};

/**
 * A queue of shareable values between interpreters and threads. One object per id in each thread
 * (`runtime.queue(id)`); queues are themselves shareable (they cross as their id).
 */
export class Queue {
  readonly #id: number;
  /** @internal */
  readonly rt: Runtime;
  /** @internal The queue record. */
  readonly record: number;

  /** @internal Use `runtime.createQueue()` / `runtime.queue(id)`. */
  constructor(rt: Runtime, record: number) {
    this.rt = rt;
    this.record = record;
    this.#id = rt.i32[field(record, Q_ID)];
  }

  /** The queue's id (never reused). Read-only. */
  get id(): number {
    return this.#id;
  }

  /** Queues cross interpreters (by id). */
  get [SHAREABLE_BRAND](): true {
    return true;
  }

  /** The most items it holds (0 = unbounded). */
  get maxsize(): number {
    return Math.max(0, this.rt.i32[field(this.record, Q_MAXSIZE)]);
  }

  /** The default `unbounditems` of `put`. */
  get unbounditems(): UnboundItems {
    return UNBOUND_BY_OP[this.rt.i32[field(this.record, Q_UNBOUND)]]!;
  }

  /** Items in the queue now. */
  qsize(): number {
    this.checkAlive();
    return Atomics.load(this.rt.i32, field(this.record, Q_COUNT));
  }

  /** Whether it holds no item. */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether it holds `maxsize` items. */
  full(): boolean {
    const max = this.maxsize;
    return max > 0 && this.qsize() >= max;
  }

  /**
   * Add a shareable value. The value is copied into the arena (shared buffers and queues cross by
   * reference); a later `get` in any thread and interpreter gets an equal value.
   *
   * @throws NotShareableError (nothing is added); QueueFull when full and not blocking or timed out.
   */
  put(obj: unknown, options: PutOptions = {}): void {
    checkQueueOptions("put", options);
    const rt = this.rt;
    const op =
      options.unbounditems === undefined
        ? rt.i32[field(this.record, Q_UNBOUND)]
        : opOf(options.unbounditems, "put");
    checkShareable(obj);
    const payload = encodeValue(codecOf(rt), obj);
    this.checkAlive();
    const block = options.block ?? true;
    const deadline = deadlineOf(options.timeoutMs, "put");
    const a = rt.arena;
    const item = a.malloc(ITEM_HEADER + payload.byteLength);
    if (item === 0) throw new RangeError(`put: out of memory for a ${payload.byteLength}-byte queue item`);
    a.ensureView(item + ITEM_HEADER + payload.byteLength);
    const cur = rt.currentThreadState();
    a.u32[(item >>> 2) + ITEM_NEXT] = 0;
    a.u32[(item >>> 2) + ITEM_INTERP] = cur === null ? 0 : cur.interpId;
    a.u32[(item >>> 2) + ITEM_FLAGS] = op;
    a.u32[(item >>> 2) + ITEM_BYTES] = payload.byteLength;
    a.u8.set(payload, item + ITEM_HEADER);
    const i32 = rt.i32;
    for (;;) {
      const seen = Atomics.load(i32, field(this.record, Q_XEVENT));
      this.lock();
      const max = i32[field(this.record, Q_MAXSIZE)];
      if (Atomics.load(i32, field(this.record, Q_XALIVE)) === 0) {
        this.unlock();
        a.free(item);
        throw new QueueNotFoundError(`queue ${this.id} not found`);
      }
      if (max <= 0 || i32[field(this.record, Q_COUNT)] < max) {
        const last = i32[field(this.record, Q_LAST)] >>> 0;
        if (last === 0) i32[field(this.record, Q_FIRST)] = item;
        else {
          a.ensureView(last + ITEM_HEADER);
          a.u32[(last >>> 2) + ITEM_NEXT] = item;
        }
        i32[field(this.record, Q_LAST)] = item;
        Atomics.add(i32, field(this.record, Q_COUNT), 1);
        this.bumpLockHeld();
        this.unlock();
        Atomics.notify(i32, field(this.record, Q_XEVENT));
        return;
      }
      this.unlock();
      if (!block || !this.waitChange(seen, deadline)) {
        a.free(item);
        throw new QueueFull(`queue ${this.id} is full`);
      }
    }
  }

  /** `put(obj, { block: false })`. */
  putNowait(obj: unknown, options: Omit<PutOptions, "block" | "timeoutMs"> = {}): void {
    this.put(obj, { ...options, block: false });
  }

  /**
   * Take the next value (FIFO). For an item whose interpreter was destroyed: {@link UNBOUND}, or
   * `ItemInterpreterDestroyed` (UNBOUND_ERROR).
   *
   * @throws QueueEmpty when empty and not blocking or timed out.
   */
  get(options: GetOptions = {}): unknown {
    checkQueueOptions("get", options);
    const rt = this.rt;
    const i32 = rt.i32;
    const block = options.block ?? true;
    const deadline = deadlineOf(options.timeoutMs, "get");
    this.checkAlive();
    for (;;) {
      const seen = Atomics.load(i32, field(this.record, Q_XEVENT));
      this.lock();
      const item = i32[field(this.record, Q_FIRST)] >>> 0;
      if (item !== 0) {
        const a = rt.arena;
        a.ensureView(item + ITEM_HEADER);
        const next = a.u32[(item >>> 2) + ITEM_NEXT]!;
        i32[field(this.record, Q_FIRST)] = next;
        if (next === 0) i32[field(this.record, Q_LAST)] = 0;
        Atomics.sub(i32, field(this.record, Q_COUNT), 1);
        this.bumpLockHeld();
        this.unlock();
        Atomics.notify(i32, field(this.record, Q_XEVENT));
        return this.takeItem(item);
      }
      this.unlock();
      if (!block || !this.waitChange(seen, deadline)) throw new QueueEmpty(`queue ${this.id} is empty`);
    }
  }

  /** `get({ block: false })`. */
  getNowait(): unknown {
    return this.get({ block: false });
  }

  toString(): string {
    return `Queue(${this.id})`;
  }

  private takeItem(item: number): unknown {
    const a = this.rt.arena;
    const flags = a.u32[(item >>> 2) + ITEM_FLAGS]!;
    const bytes = a.u32[(item >>> 2) + ITEM_BYTES]!;
    a.ensureView(item + ITEM_HEADER + bytes);
    const payload = a.u8.slice(item + ITEM_HEADER, item + ITEM_HEADER + bytes);
    a.free(item);
    if ((flags & ITEM_UNBOUND_MASK) !== 0) {
      if ((flags & ITEM_UNBOUND_OP_MASK) === OP_ERROR) {
        throw new ItemInterpreterDestroyed("item's original interpreter destroyed");
      }
      return UNBOUND;
    }
    return decodeValue(codecOf(this.rt), payload);
  }

  /**
   * Sleep until the queue's event changes or the deadline passes (false then). The calling
   * thread's attached state is detached meanwhile, as CPython's blocking calls release the GIL,
   * so a stop-the-world pause need not wait for it.
   */
  private waitChange(seen: number, deadline: number): boolean {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const cur = this.rt.currentThreadState();
    if (cur !== null) cur.detach();
    try {
      Atomics.wait(
        this.rt.i32,
        field(this.record, Q_XEVENT),
        seen,
        left === Number.POSITIVE_INFINITY ? undefined : left,
      );
    } finally {
      if (cur !== null) cur.attach();
    }
    return true;
  }

  private bumpLockHeld(): void {
    Atomics.add(this.rt.i32, field(this.record, Q_XEVENT), 1);
  }

  private lock(): void {
    lockWord(this.rt.i32, field(this.record, Q_XLOCK), field(this.record, Q_XLOCK_WAITERS), this.rt.threadId);
  }

  private unlock(): void {
    unlockWord(
      this.rt.i32,
      field(this.record, Q_XLOCK),
      field(this.record, Q_XLOCK_WAITERS),
      this.rt.threadId,
    );
  }

  private checkAlive(): void {
    if (
      Atomics.load(this.rt.i32, field(this.record, Q_XALIVE)) === 0 ||
      this.rt.i32[field(this.record, Q_ID)] !== this.id
    ) {
      throw new QueueNotFoundError(`queue ${this.id} not found`);
    }
  }
}

function checkQueueOptions(fn: string, options: unknown): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${fn}: options must be an object, got ${pyTypeName(options)}`);
  }
}

function deadlineOf(timeoutMs: number | undefined, fn: string): number {
  if (timeoutMs === undefined) return Number.POSITIVE_INFINITY;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new TypeError(`${fn}: timeoutMs must be a number, got ${pyTypeName(timeoutMs)}`);
  }
  if (timeoutMs < 0) throw new RangeError(`${fn}: timeout value must be non-negative, got ${timeoutMs}`);
  return performance.now() + timeoutMs;
}

const codecs = new WeakMap<Runtime, CodecContext>();

function codecOf(rt: Runtime): CodecContext {
  let ctx = codecs.get(rt);
  if (ctx === undefined) {
    ctx = {
      buffer: rt.arena.buffer,
      queueId: (value) =>
        value instanceof Queue && value.rt.arena.buffer === rt.arena.buffer ? value.id : undefined,
      queueById: (id) => queueById(rt, id),
    };
    codecs.set(rt, ctx);
  }
  return ctx;
}

// ---------------------------------------------------------------------------------- the runtime's queues

/** `runtime.createQueue(maxsize, options)`. */
export function createQueue(rt: Runtime, maxsize: number, options: QueueOptions): Queue {
  if (typeof maxsize !== "number" || !Number.isInteger(maxsize)) {
    throw new TypeError(`createQueue: maxsize must be an int, got ${pyTypeName(maxsize)}`);
  }
  const op = opOf(options.unbounditems ?? UNBOUND, "createQueue");
  const i32 = rt.i32;
  const record = rt.arena.recordAlloc(QUEUE_SIZE);
  if (record === 0) throw new RangeError("createQueue: the arena's record area is exhausted");
  i32[field(record, Q_ID)] = Atomics.add(i32, field(rt.record, RT_XNEXT_QUEUE_ID), 1);
  i32[field(record, Q_MAXSIZE)] = Math.max(0, Math.min(maxsize, 0x7fffffff));
  i32[field(record, Q_UNBOUND)] = op;
  Atomics.store(i32, field(record, Q_XALIVE), 1);
  rt.headLock();
  try {
    i32[field(record, Q_NEXT)] = i32[field(rt.record, RT_QUEUES)];
    i32[field(rt.record, RT_QUEUES)] = record;
  } finally {
    rt.headUnlock();
  }
  const q = new Queue(rt, record);
  rt.queueObjects.set(q.id, q);
  return q;
}

/** `runtime.queue(id)`. */
export function queueById(rt: Runtime, id: unknown): Queue {
  if (typeof id !== "number" || !Number.isInteger(id))
    throw new TypeError(`id must be an int, got ${pyTypeName(id)}`);
  if (id < 0) throw new RangeError(`queue ID must be a non-negative int, got ${id}`);
  const known = rt.queueObjects.get(id);
  if (known !== undefined && rt.i32[field(known.record, Q_ID)] === id) return known;
  let record = 0;
  rt.headLock();
  try {
    for (let q = rt.i32[field(rt.record, RT_QUEUES)] >>> 0; q !== 0; q = rt.i32[field(q, Q_NEXT)] >>> 0) {
      if (rt.i32[field(q, Q_ID)] === id) record = q;
    }
  } finally {
    rt.headUnlock();
  }
  if (record === 0) throw new QueueNotFoundError(`queue ${id} not found`);
  const q = new Queue(rt, record);
  rt.queueObjects.set(id, q);
  return q;
}

/** The queue records (a snapshot). */
function queueRecords(rt: Runtime): number[] {
  const out: number[] = [];
  rt.headLock();
  try {
    for (let q = rt.i32[field(rt.record, RT_QUEUES)] >>> 0; q !== 0; q = rt.i32[field(q, Q_NEXT)] >>> 0)
      out.push(q);
  } finally {
    rt.headUnlock();
  }
  return out;
}

/**
 * The interpreter `interpId` is being destroyed: remove its UNBOUND_REMOVE items from every queue
 * and mark its other items unbound (CPython's `_queues_clear_interpreter`).
 */
export function clearInterpreterItems(rt: Runtime, interpId: number): void {
  const i32 = rt.i32;
  const a = rt.arena;
  for (const q of queueRecords(rt)) {
    const lock = field(q, Q_XLOCK);
    const waiters = field(q, Q_XLOCK_WAITERS);
    lockWord(i32, lock, waiters, rt.threadId);
    const freed: number[] = [];
    try {
      let prev = 0;
      let item = i32[field(q, Q_FIRST)] >>> 0;
      while (item !== 0) {
        a.ensureView(item + ITEM_HEADER);
        const w = item >>> 2;
        const next = a.u32[w + ITEM_NEXT]!;
        if (a.u32[w + ITEM_INTERP] === interpId && (a.u32[w + ITEM_FLAGS]! & ITEM_UNBOUND_MASK) === 0) {
          if ((a.u32[w + ITEM_FLAGS]! & ITEM_UNBOUND_OP_MASK) === OP_REMOVE) {
            if (prev === 0) i32[field(q, Q_FIRST)] = next;
            else a.u32[(prev >>> 2) + ITEM_NEXT] = next;
            if (i32[field(q, Q_LAST)] >>> 0 === item) i32[field(q, Q_LAST)] = prev;
            Atomics.sub(i32, field(q, Q_COUNT), 1);
            freed.push(item);
            item = next;
            continue;
          }
          a.u32[w + ITEM_FLAGS]! |= ITEM_UNBOUND_MASK;
        }
        prev = item;
        item = next;
      }
      if (freed.length > 0) Atomics.add(i32, field(q, Q_XEVENT), 1);
    } finally {
      unlockWord(i32, lock, waiters, rt.threadId);
    }
    for (const item of freed) a.free(item);
    if (freed.length > 0) Atomics.notify(i32, field(q, Q_XEVENT));
  }
}

/** The runtime finalizes: free every item and queue record. */
export function freeAllQueues(rt: Runtime): void {
  const i32 = rt.i32;
  const a = rt.arena;
  const records = queueRecords(rt);
  for (const q of records) {
    Atomics.store(i32, field(q, Q_XALIVE), 0);
    for (let item = i32[field(q, Q_FIRST)] >>> 0; item !== 0; ) {
      a.ensureView(item + ITEM_HEADER);
      const next = a.u32[(item >>> 2) + ITEM_NEXT]!;
      a.free(item);
      item = next;
    }
    i32[field(q, Q_FIRST)] = 0;
    i32[field(q, Q_LAST)] = 0;
    Atomics.store(i32, field(q, Q_COUNT), 0);
    Atomics.add(i32, field(q, Q_XEVENT), 1);
    Atomics.notify(i32, field(q, Q_XEVENT));
  }
  rt.headLock();
  i32[field(rt.record, RT_QUEUES)] = 0;
  rt.headUnlock();
  for (const q of records) a.recordFree(q, QUEUE_SIZE);
}
