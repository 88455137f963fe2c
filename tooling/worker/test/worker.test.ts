import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { startWorker, workerExit } from "../src/index.ts";

describe("startWorker", () => {
  it("runs a TypeScript worker entry from source and exchanges messages", async () => {
    const w = startWorker(new URL("./fixtures/echo.worker.ts", import.meta.url), { workerData: { add: 2 } });
    w.postMessage(40);
    const [reply] = await once(w, "message");
    expect(reply).toEqual({ sum: 42, debug: true });
    await w.terminate();
  });

  it("reports the exit code of a worker that ends", async () => {
    const w = startWorker(new URL("./fixtures/exit.worker.ts", import.meta.url));
    expect(await workerExit(w)).toBe(3);
  });
});
