"""Alliance's benchmarks. `make bench` runs them all; see bench/__main__.py."""
