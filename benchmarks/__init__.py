"""allotment's benchmarks: every figure beside a baseline measured in the same run.

Run `python -m benchmarks [--profile default|full] [--only embedded|http|scaling]
[--json benchmarks/results.json]` (or `make bench`). See benchmarks/README.md.
"""
