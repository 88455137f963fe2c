/**
 * Mutexes on arena words (CPython's `PyMutex`, reduced): the lock word holds the holder's arena
 * thread id (0 = free), so the thread that cleans up after a dead worker can release a lock the
 * worker died holding; a second word counts sleepers, so an unlock notifies only when someone
 * sleeps. Waiting spins briefly, then sleeps in `Atomics.wait`.
 *
 * A waiter that is attached to an interpreter must not block a stop-the-world pause (CPython's
 * `PyMutex_Lock` detaches while it waits): such waits pass `onWait`, called between short sleeps,
 * which is `checkpoint()`.
 */

const SPINS = 64;
/** Longest sleep between checks (ms): a holder that died is noticed and cleaned up by another thread. */
const SLEEP_MS = 50;
/** Sleep between `onWait` calls (ms). */
const POLL_MS = 1;

/** Take the lock at word `lock` for `owner` (a nonzero thread id). Not reentrant. */
export function lockWord(
  i32: Int32Array,
  lock: number,
  waiters: number,
  owner: number,
  onWait?: () => void,
): void {
  const holder = Atomics.compareExchange(i32, lock, 0, owner);
  if (holder === 0) return;
  lockWordSlow(i32, lock, waiters, owner, holder, onWait);
}

function lockWordSlow(
  i32: Int32Array,
  lock: number,
  waiters: number,
  owner: number,
  holder: number,
  onWait: (() => void) | undefined,
): void {
  if (holder === owner) throw new Error(`lock at word ${lock} re-entered by its holder (thread ${owner})`);
  for (let i = 0; i < SPINS; i++) {
    holder = Atomics.compareExchange(i32, lock, 0, owner);
    if (holder === 0) return;
  }
  for (;;) {
    Atomics.add(i32, waiters, 1);
    Atomics.wait(i32, lock, holder, onWait ? POLL_MS : SLEEP_MS);
    Atomics.sub(i32, waiters, 1);
    if (onWait) onWait();
    holder = Atomics.compareExchange(i32, lock, 0, owner);
    if (holder === 0) return;
  }
}

/** Try to take the lock once; true on success. */
export function tryLockWord(i32: Int32Array, lock: number, owner: number): boolean {
  return Atomics.compareExchange(i32, lock, 0, owner) === 0;
}

/** Release the lock held by `owner`. */
export function unlockWord(i32: Int32Array, lock: number, waiters: number, owner: number): void {
  const was = Atomics.compareExchange(i32, lock, owner, 0);
  if (was !== owner)
    throw new Error(`lock at word ${lock} released by thread ${owner}, but thread ${was} holds it`);
  if (Atomics.load(i32, waiters) !== 0) Atomics.notify(i32, lock, 1);
}

/** Release the lock if the dead thread `owner` holds it (cleanup after a worker that died). True if it did. */
export function releaseDeadHolder(i32: Int32Array, lock: number, owner: number): boolean {
  if (Atomics.compareExchange(i32, lock, owner, 0) !== owner) return false;
  Atomics.notify(i32, lock);
  return true;
}

/** The holder's thread id, 0 when free. */
export function lockHolder(i32: Int32Array, lock: number): number {
  return Atomics.load(i32, lock);
}
