"""Applying plans: idempotent, crash-safe execution against a workspace."""
