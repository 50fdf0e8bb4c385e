"""Mission-scale work: position sweeps (and whole-country surfaces) computed chunk by chunk on Dask.

Each chunk calls the same functions as ``planner.assess``, so a result made in this process, on a local
cluster or on a mission's scheduler is the same result by construction.
"""
