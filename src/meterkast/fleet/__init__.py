"""Simulated DSMR smart meters: household model, memory, secure responses."""
