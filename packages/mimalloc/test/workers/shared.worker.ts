// Worker side of the shared-tld tests: the heaps of one SHARED tld (a virtual owner id), used by
// whichever thread holds a lock word. Shared words (`words`, Int32Array):
//   0   lock: the holder's arena thread id (0 = free)
//   1   turn: index of the worker whose turn it is (alternate), or -1 (free-for-all)
//   2   rounds done (all workers)
//   8+i this worker's arena thread id
// Blocks cross threads through `transfer` (offsets; 0 = empty); each block's first word holds its
// size and the rest a pattern, checked by whoever frees it.
//   alternate: `rounds` turns: take the lock, free every block in `transfer` (left by the other
//              worker), allocate a batch in both heaps, free half at once, leave the rest.
//   loop:      take the lock and allocate / free forever, until terminated (with the lock held
//              most of the time, possibly inside an allocator slow path).
import { parentPort, workerData } from "node:worker_threads";
import { Arena, type Heap } from "../../src/index.ts";

interface Data {
  mode: "alternate" | "loop";
  buffer: SharedArrayBuffer;
  words: SharedArrayBuffer;
  transfer: SharedArrayBuffer;
  heaps: number[];
  index: number;
  rounds: number;
  seed: number;
}
const d = workerData as Data;
const a = Arena.attach(d.buffer);
const words = new Int32Array(d.words);
const transfer = new Int32Array(d.transfer);
Atomics.store(words, 8 + d.index, a.threadId);

let x = d.seed >>> 0 || 1;
function rnd(): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>>= 0);
}

function lock(): void {
  while (Atomics.compareExchange(words, 0, 0, a.threadId) !== 0) Atomics.wait(words, 0, Atomics.load(words, 0), 5);
  // The last holder may have grown the buffer and put pages of the new segments into the heaps.
  a.refreshViews();
}
function unlock(): void {
  Atomics.store(words, 0, 0);
  Atomics.notify(words, 0);
}

function fill(p: number, size: number): void {
  a.ensureView(p + size);
  a.u32[p >>> 2] = size;
  a.u8.fill((p >>> 3) & 0xff, p + 4, p + size);
}

function check(p: number): void {
  a.ensureView(p + 4);
  const size = a.u32[p >>> 2]!;
  a.ensureView(p + size);
  const mark = (p >>> 3) & 0xff;
  for (let i = 4; i < size; i += 7) if (a.u8[p + i] !== mark) throw new Error(`block ${p} corrupted at +${i}`);
}

function allocOne(heaps: Heap[]): number {
  const size = 8 + (rnd() % 8 === 0 ? rnd() % 20_000 : rnd() % 256);
  const p = heaps[rnd() % heaps.length]!.malloc(size);
  if (p === 0) throw new Error("out of memory");
  fill(p, size);
  return p;
}

let heaps: Heap[] = [];
switch (d.mode) {
  case "alternate": {
    let frees = 0;
    for (let round = 0; round < d.rounds; round++) {
      while (Atomics.load(words, 1) !== d.index) Atomics.wait(words, 1, 1 - d.index, 50);
      lock();
      // Handles made under the lock, on first use: the heaps belong to no thread.
      if (heaps.length === 0) heaps = d.heaps.map((r) => a.heapAttach(r));
      for (let s = 0; s < transfer.length; s++) {
        const p = transfer[s]!;
        if (p === 0) continue;
        check(p);
        a.free(p); // another thread's block of a page owned by the virtual id: a thread-free push
        transfer[s] = 0;
        frees++;
      }
      const batch: number[] = [];
      for (let i = 0; i < 400; i++) batch.push(allocOne(heaps));
      for (let i = 0; i < batch.length; i += 2) {
        check(batch[i]!);
        a.free(batch[i]!);
      }
      let s = 0;
      for (let i = 1; i < batch.length; i += 2) {
        while (transfer[s] !== 0) s++;
        transfer[s] = batch[i]!;
      }
      if (round % 4 === 3) heaps[0]!.collect(false);
      Atomics.add(words, 2, 1);
      unlock();
      Atomics.store(words, 1, 1 - d.index);
      Atomics.notify(words, 1);
    }
    parentPort!.postMessage({ threadId: a.threadId, frees });
    a.detach();
    break;
  }
  case "loop": {
    lock();
    heaps = d.heaps.map((r) => a.heapAttach(r));
    parentPort!.postMessage({ threadId: a.threadId });
    for (;;) {
      const s = rnd() % transfer.length;
      const p = transfer[s]!;
      if (p !== 0) {
        transfer[s] = 0;
        check(p);
        a.free(p);
      }
      transfer[s] = allocOne(heaps);
      if (rnd() % 64 === 0) {
        // Let the other thread in now and then.
        unlock();
        lock();
      }
    }
  }
}
