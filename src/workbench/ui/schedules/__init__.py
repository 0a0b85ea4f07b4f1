"""The Schedules and Webhooks docks and their controller (triggers, webhooks)."""
