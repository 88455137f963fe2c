// From source, `__DEBUG__` is a global (release bundles replace it with a constant).
(globalThis as { __DEBUG__?: boolean }).__DEBUG__ = true;
