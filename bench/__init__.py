"""Benchmarks and evaluations (`make bench`); each reports ratios against a baseline run in the
same process, never absolute timings as pass/fail."""
