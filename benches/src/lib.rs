//! Shared helpers of the benchmarks (data generators land here with the face benches).
