"""The many-models tests, a package so their conftest never shadows the batch-scoring tests' `conftest` module."""
