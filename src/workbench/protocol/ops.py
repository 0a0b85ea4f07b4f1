"""Webhooks, triggers and credentials (protocol.md §11; the OpenAPI ``Webhook``,
``Trigger``, ``TriggerExecution`` and ``Credential`` schemas).

Secret fields (a credential's ``value``/``token``/``client_secret``/``refresh_token``) exist
only on the create and update parameters: a ``Credential`` read back never has them.
"""

from __future__ import annotations

from typing import Any

from ._base import Int, Timestamp, WireModel

WEBHOOK_EVENTS = (
    "batch.succeeded",
    "batch.expired",
    "batch.failed",
    "interaction.requires_action",
    "interaction.completed",
    "interaction.failed",
    "video.generated",
)
"""What a webhook may subscribe to (the spec's list)."""


class SigningSecret(WireModel):
    """A webhook signing secret as shown after creation: truncated, maybe expiring."""

    truncated_secret: str | None = None
    expire_time: Timestamp | None = None


class Webhook(WireModel):
    """A registered webhook. ``new_signing_secret`` is only set in the create answer."""

    id: str | None = None
    name: str | None = None
    uri: str | None = None
    subscribed_events: list[str] | None = None
    state: str | None = None
    """``enabled``, ``disabled`` or ``disabled_due_to_failed_deliveries``."""
    signing_secrets: list[SigningSecret] | None = None
    new_signing_secret: str | None = None
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None


class WebhookDelivery(WireModel):
    """One event sent (or being sent) to a webhook: the engine's delivery log."""

    id: str | None = None
    event_type: str | None = None
    state: str | None = None
    """``pending``, ``delivered`` or ``failed``."""
    attempts: Int | None = None
    last_status: Int | None = None
    last_error: str | None = None
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None


class Trigger(WireModel):
    """An interaction template run on a cron ``schedule`` in ``time_zone``."""

    id: str | None = None
    display_name: str | None = None
    interaction: dict[str, Any] | None = None
    """The create-interaction body each execution sends."""
    schedule: str | None = None
    time_zone: str | None = None
    environment_id: str | None = None
    execution_timeout_seconds: Int | None = None
    max_consecutive_failures: Int | None = None
    status: str | None = None
    """``active``, ``paused`` or ``error``."""
    consecutive_failure_count: Int | None = None
    next_run_time: Timestamp | None = None
    last_run_time: Timestamp | None = None
    last_pause_time: Timestamp | None = None
    last_resume_time: Timestamp | None = None
    previous_interaction_id: str | None = None
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None


class TriggerExecution(WireModel):
    """One run of a trigger, linked to the interaction it created."""

    id: str | None = None
    trigger_id: str | None = None
    status: str | None = None
    """``in_progress``, ``completed``, ``failed``, ``skipped`` or ``timed_out``."""
    interaction_id: str | None = None
    environment_id: str | None = None
    scheduled_time: Timestamp | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    error: str | None = None


CREDENTIAL_TYPES = ("environment_variable", "bearer_token", "oauth2")


class Credential(WireModel):
    """A stored credential's metadata (never its secret)."""

    id: str | None = None
    type: str | None = None
    status: str | None = None
    """``active`` or ``revoked``."""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None
