"""Reminders (催办): the ladder of deadline stages, digests and escalation (督办)."""
