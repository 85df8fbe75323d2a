"""Shared kernel: value types and errors every bounded context may use (pure, no I/O)."""
