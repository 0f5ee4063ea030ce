"""The conversation service every channel calls, and what it needs: per-session locks, metrics."""

from bot.conversation.locks import SessionLocks
from bot.conversation.metrics import ConversationMetrics
from bot.conversation.service import Asked, ConversationService, HandoffStarted

__all__ = ["Asked", "ConversationMetrics", "ConversationService", "HandoffStarted", "SessionLocks"]
