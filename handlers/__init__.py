"""Channels: the HTTP API, the web widget, Telegram and the staff pages."""
