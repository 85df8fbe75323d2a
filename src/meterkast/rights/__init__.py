"""Data-subject rights: requests with their deadline, the access export, consent withdrawal."""
