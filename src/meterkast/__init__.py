"""meterkast: a privacy-first data platform for Dutch grid operators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("meterkast")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
