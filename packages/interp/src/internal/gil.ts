/**
 * GIL mode: each interpreter has its own lock (CPython's `gil` with `own_gil`), a word in its
 * record that holds the holder's thread-state record (0 = free). Attach takes it, detach releases
 * it; only the thread state holding it runs the interpreter's code.
 *
 * A waiter sleeps in `Atomics.wait` on the lock word. When it has waited a whole switch interval
 * (CPython's 5 ms `sys.getswitchinterval()`), it sets GIL_DROP_REQUEST in the holder's eval
 * breaker; the holder's next `checkpoint()` detaches, waits until another thread has taken the
 * lock (`xgilSwitches` changes: CPython's FORCE_SWITCHING) and attaches again.
 */
import { ThreadStateError } from "./errors.ts";
import { field, IS_XGIL, IS_XGIL_SWITCHES, IS_XGIL_WAITERS } from "./runtime-layout.ts";
import type { ThreadStateHandle } from "./tstate.ts";
import { GIL_DROP_REQUEST_MASK, tstateSetEvalBreakerBits } from "./tstate-layout.ts";

/** CPython's default switch interval (ms). */
export const SWITCH_INTERVAL_MS = 5;

/** Take the GIL of `ts`'s interpreter for `ts` (attach, GIL mode). */
export function takeGil(ts: ThreadStateHandle): void {
  if (Atomics.compareExchange(ts.i32, field(ts.interp, IS_XGIL), 0, ts.record) !== 0) takeGilSlow(ts);
}

function takeGilSlow(ts: ThreadStateHandle): void {
  const i32 = ts.i32;
  const gil = field(ts.interp, IS_XGIL);
  const waiters = field(ts.interp, IS_XGIL_WAITERS);
  for (;;) {
    const holder = Atomics.load(i32, gil);
    if (holder === 0) {
      if (Atomics.compareExchange(i32, gil, 0, ts.record) === 0) break;
      continue;
    }
    if (holder === ts.record) {
      throw new ThreadStateError(
        `attach: thread state ${ts.id} already holds the GIL of interpreter ${ts.interpId}`,
      );
    }
    Atomics.add(i32, waiters, 1);
    const result = Atomics.wait(i32, gil, holder, SWITCH_INTERVAL_MS);
    Atomics.sub(i32, waiters, 1);
    if (result === "timed-out" && Atomics.load(i32, gil) === holder) {
      tstateSetEvalBreakerBits(i32, holder, GIL_DROP_REQUEST_MASK);
    }
  }
  const switches = field(ts.interp, IS_XGIL_SWITCHES);
  Atomics.add(i32, switches, 1);
  Atomics.notify(i32, switches);
}

/** Release the GIL `ts` holds (detach, GIL mode). */
export function dropGil(ts: ThreadStateHandle): void {
  const i32 = ts.i32;
  const gil = field(ts.interp, IS_XGIL);
  const was = Atomics.compareExchange(i32, gil, ts.record, 0);
  if (was !== ts.record) {
    throw new ThreadStateError(
      `detach: thread state ${ts.id} does not hold the GIL of interpreter ${ts.interpId} (holder record ${was})`,
    );
  }
  if (Atomics.load(i32, field(ts.interp, IS_XGIL_WAITERS)) !== 0) Atomics.notify(i32, gil, 1);
}

/** Release the GIL if the dead thread state at `record` holds it (cleanup after a dead worker). */
export function releaseGilOf(i32: Int32Array, interp: number, record: number): void {
  const gil = field(interp, IS_XGIL);
  if (Atomics.compareExchange(i32, gil, record, 0) === record) Atomics.notify(i32, gil, 1);
}

/** Hand the GIL to a waiting thread, then take it back (`checkpoint()` with GIL_DROP_REQUEST). */
export function yieldGil(ts: ThreadStateHandle): void {
  const i32 = ts.i32;
  if (Atomics.load(i32, field(ts.interp, IS_XGIL_WAITERS)) === 0) return;
  const switches = field(ts.interp, IS_XGIL_SWITCHES);
  const seen = Atomics.load(i32, switches);
  ts.detach();
  Atomics.wait(i32, switches, seen, SWITCH_INTERVAL_MS);
  ts.attach();
}
