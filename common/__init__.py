"""The bottom of the package graph: the root exception, the one Settings, and the types every layer
shares. It imports nothing of applybot's."""
