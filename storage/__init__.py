"""Persistence: every SQL statement of ccmbot lives in this package."""
