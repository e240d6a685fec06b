"""Benchmarks for crossbook (a package so that the modules import as ``benchmarks.*``)."""
