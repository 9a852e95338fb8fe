"""Communique: a self-hosted news assistant that answers from your own articles, with citations."""

__version__ = "0.1.0"
