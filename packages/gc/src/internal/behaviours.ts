/**
 * The JavaScript side of types: behaviours that cannot be data (finalizers, legacy `__del__`,
 * weakref callbacks, `__repr__`), registered by type name (or, for callbacks, by callback name) in EACH
 * thread that may run them. The arena says whether a type has one (`TPFLAGS_HAS_FINALIZE`,
 * `TPFLAGS_HAS_LEGACY_DEL`); the calling thread's registry says what it does. A type whose flag is
 * set but whose behaviour is missing in the running thread is reported as an ignored exception.
 */
import type { ObjectSpace } from "./space.ts";

/** What a type may do in JavaScript. `op` is a borrowed reference. */
export interface TypeBehaviour {
  /** `tp_finalize` (PEP 442: called at most once per object; may resurrect it). */
  finalize?(space: ObjectSpace, op: number): void;
  /** `tp_del` (a legacy finalizer): the collector leaves unreachable cycles with one in `gc.garbage`. */
  del?(space: ObjectSpace, op: number): void;
  /** Called when an instance is used as a weakref callback: `call(space, self, weakref)`. */
  call?(space: ObjectSpace, op: number, arg: number): void;
  /**
   * `__repr__`: the text `space.repr(op)` gives for instances of the type and of its subclasses
   * that register none (the gc module's listing of `gc.garbage` at shutdown, "Exception ignored
   * in: …" reports). It must not allocate objects it does not release.
   */
  repr?(space: ObjectSpace, op: number): string;
}

/** A weakref callback registered by name; the weakref's `wr_callback` is a str holding the name. */
export type WeakrefCallback = (space: ObjectSpace, weakref: number) => void;

const behaviours = new Map<string, TypeBehaviour>();
const callbacks = new Map<string, WeakrefCallback>();

/**
 * Register what type `name` does in JavaScript, in the calling thread (each thread that may run
 * its finalizer must register it). Returns a function that unregisters it.
 */
export function registerTypeBehaviour(name: string, behaviour: TypeBehaviour): () => void {
  if (typeof name !== "string" || name.length === 0)
    throw new TypeError("registerTypeBehaviour: name must be a non-empty string");
  if (typeof behaviour !== "object" || behaviour === null)
    throw new TypeError("registerTypeBehaviour: behaviour must be an object");
  behaviours.set(name, behaviour);
  return () => {
    if (behaviours.get(name) === behaviour) behaviours.delete(name);
  };
}

/** Register a weakref callback by name in the calling thread. Returns a function that unregisters it. */
export function registerWeakrefCallback(name: string, callback: WeakrefCallback): () => void {
  if (typeof name !== "string" || name.length === 0)
    throw new TypeError("registerWeakrefCallback: name must be a non-empty string");
  if (typeof callback !== "function")
    throw new TypeError("registerWeakrefCallback: callback must be a function");
  callbacks.set(name, callback);
  return () => {
    if (callbacks.get(name) === callback) callbacks.delete(name);
  };
}

/** The calling thread's behaviour of type `name`, if any. */
export function typeBehaviour(name: string): TypeBehaviour | undefined {
  return behaviours.get(name);
}

/** The calling thread's weakref callback `name`, if any. */
export function weakrefCallback(name: string): WeakrefCallback | undefined {
  return callbacks.get(name);
}
