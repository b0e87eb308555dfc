"""cdn-offload: the command-line front door of the pipeline."""

from ingest import allocator

__version__ = "0.1.0"

# The CLI imports Polars and pyarrow below this package: tune their allocators first.
allocator.tune()
