"""Tables of the portal: one-time login codes, OAuth clients and authorization codes.

Only hashes of codes and secrets are stored; the plain values are shown once and forgotten.
"""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import metadata

login_codes = sa.Table(
    "portal_login_codes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("customer_id", sa.String(32), nullable=False, index=True),
    sa.Column("salt", sa.String(32), nullable=False),
    sa.Column("code_hash", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

oauth_clients = sa.Table(
    "oauth_clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("party_ean", sa.String(13), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("redirect_uris", sa.Text, nullable=False),  # one URI per line
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

oauth_codes = sa.Table(
    "oauth_codes",
    metadata,
    sa.Column("code_hash", sa.String(128), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("customer_id", sa.String(32), nullable=False),
    sa.Column("grant_id", sa.String(36), nullable=False),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("code_challenge_method", sa.String(8), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
