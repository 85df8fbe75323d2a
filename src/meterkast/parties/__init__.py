"""Market parties (EAN-13), customers with their contact data, and supply contracts."""
