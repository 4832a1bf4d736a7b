"""The resilient agent gateway: breakers, retries, adaptive timeouts, balancing, fallback."""

__all__: list[str] = []
