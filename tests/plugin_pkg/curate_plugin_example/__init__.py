"""Example curate stages from an installed package (see pyproject.toml's entry points)."""
