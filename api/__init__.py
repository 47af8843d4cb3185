"""The settlement service: a thin FastAPI edge over the mediation library and a durable store."""

__all__: list[str] = []
