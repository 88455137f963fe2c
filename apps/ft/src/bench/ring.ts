/**
 * A single-producer single-consumer ring of int32 slots on a SharedArrayBuffer (the `alloc-xt`
 * transport, performance-anchors §A.1 "xt").
 *
 *   word 0         xhead: items the consumer has taken (published every PUBLISH_EVERY items)
 *   word 16        xtail: items the producer has put   (published every PUBLISH_EVERY items)
 *   word 32 …      capacity slots
 *
 * head and tail sit on separate 64-byte lines. Both are running counts (never wrapped), so
 * `tail - head` is the fill level. Slots are plain stores: the producer's `Atomics.store` of the
 * tail publishes every slot written before it, and the consumer reads slots only below a tail it
 * loaded atomically. Each side publishes its own index before it waits, so neither can wait on
 * the other's unpublished progress. Waiting spins, then sleeps in `Atomics.wait` with a small
 * timeout (each publish also notifies).
 */
export const RING_HEAD = 0;
export const RING_TAIL = 16;
export const RING_SLOTS = 32;
export const PUBLISH_EVERY = 64; // a power of two
const SPINS = 256;
const WAIT_MS = 0.2;

export function ringBytes(capacity: number): number {
  return (RING_SLOTS + capacity) * 4;
}

/** Publish `value` at `word` and wake a waiter. */
export function ringPublish(ring: Int32Array, word: number, value: number): void {
  Atomics.store(ring, word, value);
  Atomics.notify(ring, word);
}

/**
 * Wait until the counter at `word` differs from `seen`; returns the new value. `spun` counts
 * how often the wait had to sleep (reported as the case's `waits`).
 */
export function ringWaitChange(
  ring: Int32Array,
  word: number,
  seen: number,
  stats: { sleeps: number },
): number {
  for (let i = 0; i < SPINS; i++) {
    const v = Atomics.load(ring, word);
    if (v !== seen) return v;
  }
  for (;;) {
    stats.sleeps++;
    Atomics.wait(ring, word, seen, WAIT_MS);
    const v = Atomics.load(ring, word);
    if (v !== seen) return v;
  }
}
