"""Benchmarks of the settlement engine against the bare solver and its peers.

Run ``python -m bench`` (writes BENCHMARKS.md) or ``python -m bench --quick`` (CI: small
sizes, agreement asserted, no timing). See BENCHMARKS.md for what is measured.
"""
