"""Provides the benchmark scripts of issue 4 as importable modules (each also runs as `python benchmarks/NAME.py`)."""
