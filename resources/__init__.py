"""Shipped resources: label scheme, style sheet, icons."""
