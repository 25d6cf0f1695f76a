"""shopintent: the command line that ties nlu, actions and bot together."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shopintent")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
