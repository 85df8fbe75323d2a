"""The crypto-server: master key, per-meter key sets, data keys. No plaintext key leaves it."""
