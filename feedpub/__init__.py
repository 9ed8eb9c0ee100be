"""feedpub: publish a blog's Markdown posts as Atom, RSS and JSON feeds and a newsletter."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
