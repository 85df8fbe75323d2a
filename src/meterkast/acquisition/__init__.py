"""The head-end: reads the smart meters over the secure channel and hands readings on."""
