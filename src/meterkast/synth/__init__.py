"""A realistic, deterministic synthetic grid area for demos, tests and benchmarks."""
