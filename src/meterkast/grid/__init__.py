"""The connection register: connections (EAN-18), addresses, grid areas, meters, installations."""
