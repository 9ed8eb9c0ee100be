"""feedpub's benchmarks: `make bench` (python -m benchmarks) prints a table of figures."""
