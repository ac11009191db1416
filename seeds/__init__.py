"""The sample corpus: three news articles and a starter knowledge base."""
