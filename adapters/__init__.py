"""adapters package."""

__all__: list[str] = []
