"""projections package."""

__all__: list[str] = []
