"""Benchmarks of assumption_graph: ``python -m benchmarks`` (or ``make bench``).

Times the compiled kernel on the example business case and on synthetic
layered graphs of 100, 1,000 and 10,000 nodes, against a numpy evaluation of
the same graph measured in the same run; reports compile time (cold and
cached), time to get ready, samples/s, node-evaluations/s and peak memory,
and writes them as JSON (``benchmarks/results/``) to compare across commits.
"""

__all__: list[str] = []
