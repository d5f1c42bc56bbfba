"""Telegram: linking chats, bot commands, delivery of the outbox."""
