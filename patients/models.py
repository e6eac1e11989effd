"""Patient records (issue: patient records)."""
