"""applybot: answers applicants' questions about calls for applications, with checked citations."""

__version__ = "0.5.0"
