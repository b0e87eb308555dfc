"""Ingest: CDN edge logs from Kafka or files into canonical, Hive-partitioned Parquet."""

from ingest import allocator

# Before any submodule imports Polars or pyarrow (see ingest/allocator.py).
allocator.tune()
