"""Build the compiled kernels: every ``src/meterkast/**/_*.c`` is one extension module.

Everything else about the package is in pyproject.toml. The kernels are plain C against the
CPython API and the buffer protocol; ``keys/_aes.c`` also calls OpenSSL's EVP interface (its
libcrypto and headers: Debian's libssl-dev) and ``readings/_units.c`` SQLite's C interface
(libsqlite3-dev); the Makefile installs both where missing. ``pip
install -e .`` (or ``make native``) builds them in place.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import Extension, setup

SRC = Path(__file__).parent / "src"
# Libraries a kernel links beyond Python's own.
LIBRARIES = {"meterkast.keys._aes": ["crypto"], "meterkast.readings._units": ["sqlite3"]}


def _kernels() -> list[Extension]:
    modules = []
    for source in sorted(SRC.glob("meterkast/**/_*.c")):
        name = ".".join(source.relative_to(SRC).with_suffix("").parts)
        modules.append(
            Extension(
                name,
                [str(source.relative_to(Path(__file__).parent))],
                libraries=LIBRARIES.get(name, []),
                # No FMA contraction: a kernel's float results must equal numpy's to the bit.
                extra_compile_args=[
                    "-O3",
                    "-std=c11",
                    "-Wall",
                    "-Wextra",
                    "-Wno-missing-field-initializers",
                    "-ffp-contract=off",
                ],
            )
        )
    return modules


setup(ext_modules=_kernels())
