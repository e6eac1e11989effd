"""Catalogue, treatment maps and session logs (later issues)."""
