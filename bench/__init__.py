"""Benchmarks for Gongzhi on a large PostgreSQL dataset (see BENCHMARKS.md; `make bench`)."""
