import { describe, expect, it } from "vitest";
import { checkShareable, isShareable, NotShareableError } from "../src/index.ts";

const sab = new SharedArrayBuffer(16);

describe("isShareable", () => {
  it.each([
    ["undefined", undefined],
    ["null", null],
    ["true", true],
    ["a number", 1.5],
    ["NaN", Number.NaN],
    ["-0", -0],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a bigint", 10n ** 30n],
    ["a string", "spam"],
    ["a SharedArrayBuffer", sab],
    ["a typed array on a SharedArrayBuffer", new Int32Array(sab)],
    ["a DataView on a SharedArrayBuffer", new DataView(sab)],
    ["an empty frozen array", Object.freeze([])],
    ["a frozen array of shareables", Object.freeze([1, "a", null, 2n])],
    ["nested frozen arrays", Object.freeze([1, Object.freeze([2, Object.freeze([sab])])])],
  ])("shares %s", (_, value) => {
    expect(isShareable(value)).toBe(true);
    expect(() => checkShareable(value)).not.toThrow();
  });

  it.each([
    ["a symbol", Symbol("s")],
    ["a function", () => 1],
    ["a plain object", { a: 1 }],
    ["a Map", new Map()],
    ["a Set", new Set()],
    ["a Date", new Date(0)],
    ["a RegExp", /x/],
    ["an Error", new Error("e")],
    ["a class instance", new (class Spam {})()],
    ["a boxed number", Object(1)],
    ["an ArrayBuffer", new ArrayBuffer(8)],
    ["a typed array on an ArrayBuffer", new Uint8Array(8)],
    ["a mutable array", [1, 2]],
    ["a frozen array holding an object", Object.freeze([1, {}])],
    ["a frozen array holding a mutable array", Object.freeze([Object.freeze([1]), [2]])],
    ["a frozen Array subclass", Object.freeze(new (class Tuple extends Array {})())],
    ["a null-prototype object", Object.create(null)],
  ])("does not share %s", (_, value) => {
    expect(isShareable(value)).toBe(false);
    expect(() => checkShareable(value)).toThrow(NotShareableError);
  });

  it("shares the same frozen array twice in one tuple but not one that holds itself", () => {
    const inner = Object.freeze([1]);
    expect(isShareable(Object.freeze([inner, inner]))).toBe(true);
    const self: unknown[] = [];
    self.push(self);
    Object.freeze(self);
    expect(isShareable(self)).toBe(false);
    expect(() => checkShareable(self)).toThrow(
      "a frozen array that contains itself does not support cross-interpreter data",
    );
  });

  it("names the innermost value that cannot cross, in CPython's words", () => {
    expect(() => checkShareable(Object.freeze([1, Object.freeze([2, new Map()])]))).toThrow(
      new NotShareableError("<Map object> does not support cross-interpreter data"),
    );
    expect(() => checkShareable(function spam() {})).toThrow(
      "<function spam> does not support cross-interpreter data",
    );
    expect(() => checkShareable([1, "a"])).toThrow(
      '[1, "a"] does not support cross-interpreter data (freeze it to pass it as a tuple)',
    );
    expect(() => checkShareable(new Uint8Array(2))).toThrow(
      "<Uint8Array object> does not support cross-interpreter data (its buffer is not a SharedArrayBuffer)",
    );
    expect(() => checkShareable(Symbol("s"))).toThrow("Symbol(s) does not support cross-interpreter data");
  });

  it("answers false instead of throwing for a Proxy whose traps throw", () => {
    const hostile = new Proxy([], {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    expect(isShareable(hostile)).toBe(false);
  });
});
