"""Composing answers: each module answers one kind of question, or does one step of every answer."""
