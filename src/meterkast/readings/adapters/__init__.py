"""Adapters of the readings store: encrypted Parquet files, the fake data-key service."""
