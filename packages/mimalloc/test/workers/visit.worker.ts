// Worker side of the visiting tests. Commands come in workerData:
//   alloc: attach, allocate in two heaps (tags 0 and 2) of a tld bound to `pool` and in the default
//          heap (default pool), free some blocks locally, post the live blocks, and exit without
//          detaching (the main thread abandons what it left behind).
//   free:  attach, free every block listed in `blocks` (blocks of abandoned pages: each free is a
//          remote push), slowly, counting progress in `control[0]`; post when done.
import { parentPort, workerData } from "node:worker_threads";
import { Arena } from "../../src/index.ts";

interface Data {
  mode: "alloc" | "free";
  buffer: SharedArrayBuffer;
  pool: number;
  seed: number;
  blocks?: SharedArrayBuffer;
  control?: SharedArrayBuffer;
}
const d = workerData as Data;
const a = Arena.attach(d.buffer);

let x = d.seed >>> 0 || 1;
function rnd(): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>>= 0);
}

function size(): number {
  const r = rnd() % 100;
  if (r < 80) return 1 + (rnd() % 512);
  if (r < 95) return 513 + (rnd() % 16_000);
  if (r < 99) return 16_385 + (rnd() % 100_000);
  return 200_000 + (rnd() % 500_000);
}

/** `n` blocks from `malloc`, a third of them freed again in random order; returns the live ones. */
function churn(malloc: (size: number) => number, n: number): number[] {
  const live: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = malloc(size());
    if (p === 0) throw new Error("out of memory");
    a.u8[p] = d.seed & 0xff;
    live.push(p);
    if (rnd() % 3 === 0) {
      const k = rnd() % live.length;
      a.free(live[k]!);
      live[k] = live[live.length - 1]!;
      live.pop();
    }
  }
  return live;
}

if (d.mode === "alloc") {
  const tld = a.tldNew(d.pool);
  const h0 = a.heapNew(0, tld);
  const h2 = a.heapNew(2, tld);
  const tag0 = churn((n) => h0.malloc(n), 3000);
  const tag2 = churn((n) => h2.malloc(n), 3000);
  const defaultPool = churn((n) => a.malloc(n), 500);
  parentPort!.postMessage({ threadId: a.threadId, tag0, tag2, defaultPool });
  // Exit without detach: no cleanup, as a worker that ends or is terminated.
} else {
  const blocks = new Uint32Array(d.blocks!);
  const progress = new Int32Array(d.control!);
  for (const p of blocks) {
    a.free(p);
    Atomics.add(progress, 0, 1);
    const until = performance.now() + 0.05; // ~50 µs apart: the frees span many visits
    while (performance.now() < until) {}
  }
  parentPort!.postMessage({ threadId: a.threadId, freed: blocks.length });
}
