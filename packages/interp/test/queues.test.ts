// Ports of Lib/test/test_interpreters/test_queues.py: queues of shareable values between
// interpreters and threads, in the arena.
import { describe, expect, it } from "vitest";
import {
  ExecutionFailed,
  ItemInterpreterDestroyed,
  NotShareableError,
  type Queue,
  QueueEmpty,
  QueueFull,
  QueueNotFoundError,
  UNBOUND,
  UNBOUND_ERROR,
} from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";

describe("QueueTests", () => {
  it("test_create", () => {
    const { rt } = newRuntime();
    expect(rt.createQueue().maxsize).toBe(0);
    expect(rt.createQueue(3).maxsize).toBe(3);
    expect(rt.createQueue(100).maxsize).toBe(100);
    expect(rt.createQueue(0).maxsize).toBe(0);
    expect(rt.createQueue(-1).maxsize).toBe(0);
    expect(() => rt.createQueue("1" as unknown as number)).toThrow(TypeError);
  });

  it("test_shareable", () => {
    const { rt, out } = newRuntime();
    const queue1 = rt.createQueue();
    const interp = rt.create();
    interp.exec(`var queue1 = interpreters.queue(${queue1.id})`);
    // same interpreter
    const queue2 = rt.createQueue();
    queue1.put(queue2);
    expect(queue1.get()).toBe(queue2);
    // from current interpreter
    const queue4 = rt.createQueue();
    queue1.put(queue4);
    out.length = 0;
    interp.exec("print(queue1.get().id)");
    expect(Number(out.join(""))).toBe(queue4.id);
    // from subinterpreter
    out.length = 0;
    interp.exec("const queue5 = interpreters.createQueue(); queue1.put(queue5); print(queue5.id)");
    expect((queue1.get() as Queue).id).toBe(Number(out.join("")));
  });

  it("test_id_type", () => {
    expect(Number.isInteger(newRuntime().rt.createQueue().id)).toBe(true);
  });

  it("test_custom_id", () => {
    const { rt } = newRuntime();
    expect(() => rt.queue(1_000_000)).toThrow(new QueueNotFoundError("queue 1000000 not found"));
    expect(() => rt.queue("1")).toThrow(TypeError);
  });

  it("test_id_readonly / test_maxsize_readonly", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue(10);
    expect(() => {
      (queue as { id: number }).id = 1_000_000;
    }).toThrow(TypeError);
    expect(() => {
      (queue as { maxsize: number }).maxsize = 1_000_000;
    }).toThrow(TypeError);
  });

  it("test_equality", () => {
    const { rt } = newRuntime();
    const queue1 = rt.createQueue();
    const queue2 = rt.createQueue();
    expect(rt.queue(queue1.id)).toBe(queue1);
    expect(queue1).not.toBe(queue2);
    expect(String(queue1)).toBe(`Queue(${queue1.id})`);
  });
});

describe("TestQueueOps", () => {
  it("test_empty", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    const before = queue.empty();
    queue.put(null);
    const during = queue.empty();
    queue.get();
    expect([before, during, queue.empty()]).toEqual([true, false, true]);
  });

  it("test_full", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue(3);
    const actual: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      actual.push(queue.full());
      queue.put(null);
    }
    actual.push(queue.full());
    for (let i = 0; i < 3; i++) {
      queue.get();
      actual.push(queue.full());
    }
    expect(actual).toEqual([false, false, false, true, false, false, false]);
  });

  it("test_qsize", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    const actual: number[] = [];
    for (let i = 0; i < 3; i++) {
      actual.push(queue.qsize());
      queue.put(null);
    }
    actual.push(queue.qsize());
    queue.get();
    actual.push(queue.qsize());
    queue.put(null);
    actual.push(queue.qsize());
    for (let i = 0; i < 3; i++) {
      queue.get();
      actual.push(queue.qsize());
    }
    queue.put(null);
    actual.push(queue.qsize());
    queue.get();
    actual.push(queue.qsize());
    expect(actual).toEqual([0, 1, 2, 3, 2, 3, 2, 1, 0, 1, 0]);
  });

  it("test_put_get_main", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    for (let i = 0; i < 20; i++) queue.put(i);
    expect(Array.from({ length: 20 }, () => queue.get())).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("test_put_timeout", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue(2);
    queue.put(null);
    queue.put(null);
    expect(() => queue.put(null, { timeoutMs: 50 })).toThrow(new QueueFull(`queue ${queue.id} is full`));
    queue.get();
    queue.put(null);
  });

  it("test_put_nowait", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue(2);
    queue.putNowait(null);
    queue.putNowait(null);
    expect(() => queue.putNowait(null)).toThrow(QueueFull);
    queue.get();
    queue.putNowait(null);
  });

  it("test_get_timeout", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    const started = performance.now();
    expect(() => queue.get({ timeoutMs: 50 })).toThrow(new QueueEmpty(`queue ${queue.id} is empty`));
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(() => queue.get({ timeoutMs: -1 })).toThrow("get: timeout value must be non-negative, got -1");
  });

  it("test_get_nowait", () => {
    const { rt } = newRuntime();
    expect(() => rt.createQueue().getNowait()).toThrow(QueueEmpty);
  });

  it("round-trips every shareable kind, nested tuples included", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    const view = new Int32Array(rt.arena.buffer, 1024, 4);
    const values = [
      undefined,
      null,
      true,
      false,
      -0,
      Number.NaN,
      1.5,
      2n ** 100n,
      -(3n ** 50n),
      "",
      "spam 🥚 \u0000",
      "x".repeat(10_000),
      Object.freeze([1, Object.freeze(["a", Object.freeze([])]), null]),
    ];
    for (const v of values) queue.put(v);
    for (const v of values) expect(queue.get()).toEqual(v);
    queue.put(view);
    const back = queue.get() as Int32Array;
    expect(back).toBeInstanceOf(Int32Array);
    expect(back.buffer).toBe(rt.arena.buffer);
    expect([back.byteOffset, back.length]).toEqual([1024, 4]);
    queue.put(rt.arena.buffer);
    expect(queue.get()).toBe(rt.arena.buffer);
    const tuple = Object.freeze([1]);
    queue.put(tuple);
    const got = queue.get();
    expect(got).toEqual(tuple);
    expect(got).not.toBe(tuple);
    expect(Object.isFrozen(got)).toBe(true);
  });

  it("refuses values that cannot cross, putting nothing", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    expect(() => queue.put({ a: 1 })).toThrow(NotShareableError);
    expect(() => queue.put([1, 2])).toThrow(NotShareableError);
    expect(() => queue.put(new SharedArrayBuffer(8))).toThrow(
      /does not support cross-interpreter data through a queue \(a queue carries only the runtime's arena buffer/,
    );
    expect(queue.qsize()).toBe(0);
  });

  it("test_put_get_same_interpreter", () => {
    const { rt } = newRuntime();
    rt.create().exec(`
      const queue = interpreters.createQueue();
      const orig = Object.freeze(['spam']);
      queue.put(orig);
      const obj = queue.get();
      if (obj[0] !== orig[0]) throw new Error('expected: obj == orig');
      if (obj === orig) throw new Error('expected: obj is not orig');
    `);
  });

  it("test_put_get_different_interpreters", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const queue1 = rt.createQueue();
    const queue2 = rt.createQueue();
    queue1.put("spam");
    interp.exec(`
      const queue1 = interpreters.queue(${queue1.id});
      const queue2 = interpreters.queue(${queue2.id});
      if (queue1.qsize() !== 1) throw new Error('expected: queue1.qsize() == 1');
      const obj = queue1.get();
      if (queue1.qsize() !== 0) throw new Error('expected: queue1.qsize() == 0');
      if (obj !== 'spam') throw new Error('expected: obj == obj1');
      queue2.put('eggs');
    `);
    expect(queue1.qsize()).toBe(0);
    expect(queue2.qsize()).toBe(1);
    expect(queue2.get()).toBe("eggs");
  });

  it("test_put_cleared_with_subinterpreter: items of a destroyed interpreter become UNBOUND", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const queue = rt.createQueue();
    interp.exec(`const queue = interpreters.queue(${queue.id}); queue.put('spam'); queue.put('eggs');`);
    expect(queue.qsize()).toBe(2);
    expect(queue.get()).toBe("spam");
    expect(queue.qsize()).toBe(1);
    interp.close();
    expect(queue.qsize()).toBe(1);
    expect(queue.get()).toBe(UNBOUND);
    expect(queue.qsize()).toBe(0);
  });

  it("test_put_cleared_with_subinterpreter_mixed: UNBOUND, UNBOUND_ERROR and UNBOUND_REMOVE", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const queue = rt.createQueue(0, { unbounditems: UNBOUND_ERROR });
    expect(queue.unbounditems).toBe(UNBOUND_ERROR);
    interp.exec(`
      const q = interpreters.queue(${queue.id});
      q.put('a');                                             // the queue's default: UNBOUND_ERROR
      q.put('b', { unbounditems: interpreters.UNBOUND });
      q.put('c', { unbounditems: interpreters.UNBOUND_REMOVE });
      q.put('d', { unbounditems: interpreters.UNBOUND_ERROR });
      q.put('e', { unbounditems: interpreters.UNBOUND_REMOVE });
    `);
    queue.put("f"); // from the main interpreter: not affected
    expect(queue.qsize()).toBe(6);
    interp.close();
    expect(queue.qsize()).toBe(4); // the UNBOUND_REMOVE items went with their interpreter
    expect(() => queue.get()).toThrow(new ItemInterpreterDestroyed("item's original interpreter destroyed"));
    expect(queue.get()).toBe(UNBOUND);
    expect(() => queue.get()).toThrow(ItemInterpreterDestroyed);
    expect(queue.get()).toBe("f");
    expect(queue.qsize()).toBe(0);
  });

  it("test_put_get_different_threads", async () => {
    const { rt } = newRuntime();
    const queue1 = rt.createQueue();
    const queue2 = rt.createQueue();
    const thread = rt.create().callInThread(
      (q1: Queue, q2: Queue) => {
        q2.put(q1.get({ timeoutMs: 5000 }));
      },
      queue1,
      queue2,
    );
    queue1.put(Object.freeze(["spam", 1n]));
    const obj = queue2.get({ timeoutMs: 5000 });
    await thread.join();
    expect(thread.error).toBeNull();
    expect(obj).toEqual(["spam", 1n]);
  });

  it("frees every item when the runtime finalizes", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    for (let i = 0; i < 100; i++) queue.put(`item ${i}`);
    const used = rt.arena.stats().usedBlocks;
    rt.finalize();
    expect(rt.arena.stats().usedBlocks).toBe(used - 100);
    expect(() => queue.qsize()).toThrow(QueueNotFoundError);
  });

  it("reports a failing put inside an interpreter as ExecutionFailed", () => {
    const { rt } = newRuntime();
    const queue = rt.createQueue();
    expect(() => rt.create().exec(`interpreters.queue(${queue.id}).put({})`)).toThrow(ExecutionFailed);
  });
});
