//! Shared helpers of the flagcore benchmarks.
