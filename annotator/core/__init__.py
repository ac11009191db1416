"""The annotator's model: pure Python, no Qt (enforced by an import-linter contract)."""
