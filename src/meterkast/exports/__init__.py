"""Exports of a customer's own readings: CSV for spreadsheets, Green Button ESPI XML for apps."""

from meterkast.exports.espi import to_espi
from meterkast.exports.table import CSV_HEADER, GAS_CSV_HEADER, to_csv

__all__ = ["CSV_HEADER", "GAS_CSV_HEADER", "to_csv", "to_espi"]
