"""Validated daily register readings and interval data, encrypted at rest, 24-month retention."""
