"""The register as the other contexts use it: legal bases for decisions, documents for people."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from meterkast.kernel.codes import LegalBasis
from meterkast.register.domain import Register
from meterkast.register.export import to_dict, to_html


class RegisterService:
    """Implements access's PurposeCatalog and RegisterDocument ports over one register."""

    def __init__(self, register: Register) -> None:
        self.register = register

    @cached_property
    def _bases(self) -> Mapping[str, tuple[LegalBasis, ...]]:
        return {a.id: tuple(a.legal_bases) for a in self.register.activities}

    def legal_bases(self) -> Mapping[str, tuple[LegalBasis, ...]]:
        return self._bases

    def as_json(self) -> Mapping[str, object]:
        return to_dict(self.register)

    @cached_property
    def _html(self) -> str:
        return to_html(self.register)

    def as_html(self) -> str:
        return self._html
