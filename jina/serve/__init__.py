"""Building blocks shared by the gateway and executor processes (they depend on jina/, not the reverse)."""
