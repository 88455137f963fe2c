/**
 * `runStress`: mimalloc's test-stress (test/test-stress.c, reference notes §5) over one shared
 * arena. Each round starts `threads` new workers; each worker allocates `100·scale·(tid%8+1)`
 * blocks (half as many retained), frees a random earlier block 66% of the time and swaps a
 * pointer with one of 1000 shared transfer slots 25% of the time, so blocks are freed by other
 * threads and outlive the thread that made them. Every block is filled with a checkable pattern
 * and checked when freed. After each round the workers have exited (detached); the main thread
 * frees half of the transfer slots (all of them after the last round).
 *
 * This is the app's own implementation until @ft/mimalloc's test support exports one with the
 * same name and options.
 */
import type { Arena, ArenaStats } from "../runtime/mimalloc.ts";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { startJob } from "../runtime/workers.ts";
import { Pick, StressCorruptionError, StressHeap } from "./items.ts";
import type { StressWorkerData, StressWorkerResult } from "./stress.worker.ts";

export const TRANSFERS = 1000;

export interface StressOptions {
  /** Worker threads started per round. @defaultValue 8 */
  threads: number;
  /** Rounds (mimalloc's ITER). @defaultValue 20 */
  rounds: number;
  /** Work per thread: 100·scale·(tid%8+1) allocations; above 100 also huge blocks. @defaultValue 50 */
  scale: number;
  /** @defaultValue 42 */
  seed: number;
  /** Create the arena with per-free checks (double frees and interior pointers throw). @defaultValue true */
  checks?: boolean;
  /** Called after each round with the arena's statistics. */
  onRound?: (round: RoundReport) => void;
}

export interface RoundReport {
  round: number;
  rounds: number;
  ms: number;
  allocs: number;
  crossThreadSwaps: number;
  stats: ArenaStats;
  /** What the arena checker found after the round (empty: consistent). */
  problems: string[];
}

export interface StressSummary {
  options: Omit<StressOptions, "onRound">;
  ms: number;
  allocs: number;
  frees: number;
  crossThreadSwaps: number;
  transferFrees: number;
  /** Arena statistics after everything was freed. */
  final: ArenaStats;
  peakPageBytes: number;
}

export async function runStress(options: StressOptions): Promise<StressSummary> {
  const { threads, rounds, scale, seed, checks = true } = options;
  const { Arena } = await loadMimalloc();
  const arena: Arena = Arena.create({ maxBytes: scale > 100 ? 2 ** 31 : 1 << 30, checks });
  const r = new Pick(seed ^ 0x9e3779b9);
  const cookie = new Pick(seed).next() | 1;
  const heap = new StressHeap(arena, cookie, scale > 100);
  const transferBuffer = new SharedArrayBuffer(TRANSFERS * 4);
  const transfer = new Int32Array(transferBuffer);
  const t0 = performance.now();
  let allocs = 0;
  let frees = 0;
  let swaps = 0;
  let transferFrees = 0;
  for (let round = 0; round < rounds; round++) {
    const tr = performance.now();
    const jobs = Array.from({ length: threads }, (_, tid) =>
      startJob<StressWorkerResult>("stress/stress.worker", {
        buffer: arena.buffer,
        transfer: transferBuffer,
        tid,
        scale,
        seed,
        cookie,
      } satisfies StressWorkerData),
    );
    let results: StressWorkerResult[];
    try {
      results = await Promise.all(jobs.map((j) => j.done));
    } catch (e) {
      await Promise.all(jobs.map((j) => j.worker.terminate()));
      throw e;
    }
    let roundAllocs = 0;
    let roundSwaps = 0;
    for (const res of results) {
      roundAllocs += res.allocs;
      frees += res.frees;
      roundSwaps += res.swaps;
    }
    allocs += roundAllocs;
    swaps += roundSwaps;
    // Free half of the transferred blocks (all after the last round): they outlived their thread.
    for (let i = 0; i < TRANSFERS; i++) {
      if (r.chance(50) || round + 1 === rounds) {
        const p = Atomics.exchange(transfer, i, 0) >>> 0;
        if (p !== 0) transferFrees++;
        heap.free(p);
      }
    }
    // No thread allocates now: the whole-arena checker may walk every segment and page.
    const problems = arena.checkProblems();
    options.onRound?.({
      round: round + 1,
      rounds,
      ms: performance.now() - tr,
      allocs: roundAllocs,
      crossThreadSwaps: roundSwaps,
      stats: arena.stats(),
      problems,
    });
    if (problems.length > 0) {
      throw new StressCorruptionError(
        `stress: the arena checker failed after round ${round + 1}:\n  ${problems.slice(0, 10).join("\n  ")}`,
      );
    }
  }
  const final = arena.stats();
  return {
    options: { threads, rounds, scale, seed, checks },
    ms: performance.now() - t0,
    allocs,
    frees: frees + transferFrees,
    crossThreadSwaps: swaps,
    transferFrees,
    final,
    peakPageBytes: final.peakPageBytes,
  };
}
