//! Inputs and baselines shared by the benchmarks.
