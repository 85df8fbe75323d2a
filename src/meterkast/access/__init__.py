"""Purpose-bound access: policy decisions, grants (consents) and the audit log."""
