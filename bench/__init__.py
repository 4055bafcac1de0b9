"""Benchmarks of run.py against its peers on kubesim; ``python bench/run.py`` runs them all."""
