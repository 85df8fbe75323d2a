"""Benchmarks (`make bench`). Each module has ``run(scale)`` and prints figures beside a baseline
measured in the same run and the issue's target."""
