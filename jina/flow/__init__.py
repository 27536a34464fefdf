"""Flow: build a chain of Executors and run it as gateway + executor processes."""

from jina.flow.flow import Flow

__all__ = ["Flow"]
