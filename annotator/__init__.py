"""Hand-label named entities in news articles, link them to a knowledge base, review and export gold."""

__version__ = "0.1.0"
