"""Ingest: CDN edge logs from Kafka or files into canonical, Hive-partitioned Parquet."""
