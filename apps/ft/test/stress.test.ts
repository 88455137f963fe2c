import { describe, expect, it } from "vitest";
import { Pick, StressCorruptionError, StressHeap } from "../src/stress/items.ts";
import { runStress } from "../src/stress/stress.ts";

describe("stress blocks", () => {
  it("follows mimalloc's pick/chance: deterministic, never stuck at 0", () => {
    const a = new Pick(43);
    const b = new Pick(43);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(xs.includes(0)).toBe(false);
    expect(new Pick(0).next()).not.toBe(0);
  });

  it("detects a block whose pattern was overwritten", () => {
    const buffer = new SharedArrayBuffer(1 << 16);
    let top = 64;
    const malloc = (n: number) => {
      top += n;
      return top - n;
    };
    const arena = { buffer, malloc, free: () => {} };
    const heap = new StressHeap(arena, 0x5eed, false);
    const r = new Pick(1);
    const p = heap.alloc(4, r);
    new Uint32Array(buffer)[(p >> 2) + 2] ^= 1;
    expect(() => heap.free(p)).toThrow(StressCorruptionError);
  });
});

describe("runStress", () => {
  it("frees every block it allocates across workers, with the arena checker passing each round", async () => {
    const rounds: number[] = [];
    const s = await runStress({
      threads: 2,
      rounds: 2,
      scale: 2,
      seed: 7,
      onRound: (r) => rounds.push(r.problems.length),
    });
    expect(rounds).toEqual([0, 0]);
    expect(s.allocs).toBeGreaterThan(0);
    expect(s.frees).toBe(s.allocs);
    expect(s.crossThreadSwaps).toBeGreaterThan(0);
  }, 60_000);
});
