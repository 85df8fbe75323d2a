"""The REST API (FastAPI). Routes translate HTTP into service calls; nothing else happens here."""
