"""Counters of what conversations do (answers, escalations, ratings, handoffs), whatever the channel."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ConversationMetrics:
    """Prometheus counters the conversation service bumps; the registry is the caller's."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.answers = Counter(
            "applybot_answers", "Answers given.", ["channel", "intent"], registry=self.registry
        )
        self.escalations = Counter(
            "applybot_escalations", "Answers that escalated to a person.", ["channel"], registry=self.registry
        )
        self.feedback = Counter(
            "applybot_feedback", "Ratings of answers.", ["rating"], registry=self.registry
        )
        self.handoffs = Counter(
            "applybot_handoffs", "Requests for a person.", ["channel"], registry=self.registry
        )
        self.staff_replies = Counter(
            "applybot_staff_replies", "Staff messages in handoff threads.", ["via"], registry=self.registry
        )
