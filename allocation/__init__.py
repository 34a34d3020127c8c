"""Allocation plans and methods (grandfathering, historical intensity, benchmark, auction)
and the pandas allocation engine. Built in the allocation issue."""
