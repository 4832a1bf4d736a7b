"""Agent backends."""

__all__: list[str] = []
