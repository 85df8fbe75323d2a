"""The customer portal, server-rendered in the same FastAPI application (see web.portal)."""
