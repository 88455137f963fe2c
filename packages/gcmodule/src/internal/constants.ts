/**
 * Constants of the `gc` module (`Modules/gcmodule.c`; `_PyGC_DEBUG_*` in
 * `Include/internal/pycore_gc.h`).
 *
 * The debug flags keep CPython's public names. Each is a value (a mask) for `gc.set_debug`:
 *
 *   bit  6     5        4   3   2              1            0
 *       +-----+--------+---+---+--------------+------------+-------+
 *       |     |SAVEALL |   |   |UNCOLLECTABLE |COLLECTABLE |STATS  |
 *       +-----+--------+---+---+--------------+------------+-------+
 *   DEBUG_LEAK = COLLECTABLE | UNCOLLECTABLE | SAVEALL (everything but STATS)
 */

/** `gc.DEBUG_STATS` (1<<0): print statistics during collection. */
export const DEBUG_STATS = 1 << 0;
/** `gc.DEBUG_COLLECTABLE` (1<<1): print collectable objects found. */
export const DEBUG_COLLECTABLE = 1 << 1;
/** `gc.DEBUG_UNCOLLECTABLE` (1<<2): print unreachable but uncollectable objects found. */
export const DEBUG_UNCOLLECTABLE = 1 << 2;
/** `gc.DEBUG_SAVEALL` (1<<5): save all garbage in `gc.garbage` rather than freeing it. */
export const DEBUG_SAVEALL = 1 << 5;
/** `gc.DEBUG_LEAK`: debug leaking programs (everything but STATS). */
export const DEBUG_LEAK = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

/** `NUM_GENERATIONS`: generations 0, 1 and 2 (the free-threaded collector always scans the whole heap). */
export const NUM_GENERATIONS = 3;

/** A generation number, as `gc.collect` accepts it. */
export type Generation = 0 | 1 | 2;
