"""Prometheus text exposition of the workers' health (the API mounts it at /metrics)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.views.outbox import OutboxStatus, outbox_status
from walletflow.workers.payout_saga import saga_counts


def render_metrics(status: OutboxStatus, sagas: Mapping[str, int]) -> str:
    """Text format 0.0.4: outbox age/pending/dead letters and payout sagas per state."""
    lines = [
        "# HELP walletflow_outbox_oldest_age_seconds Age of the oldest unrelayed outbox event.",
        "# TYPE walletflow_outbox_oldest_age_seconds gauge",
        f"walletflow_outbox_oldest_age_seconds {status.oldest_age_s:.3f}",
        "# HELP walletflow_outbox_pending Outbox events not yet relayed to the stream.",
        "# TYPE walletflow_outbox_pending gauge",
        f"walletflow_outbox_pending {status.pending}",
        "# HELP walletflow_webhooks_dead_lettered Merchant webhook deliveries given up on.",
        "# TYPE walletflow_webhooks_dead_lettered gauge",
        f"walletflow_webhooks_dead_lettered {status.dead_lettered}",
        "# HELP walletflow_payout_sagas Payout sagas by state.",
        "# TYPE walletflow_payout_sagas gauge",
    ]
    lines.extend(
        f'walletflow_payout_sagas{{state="{state}"}} {count}'
        for state, count in sorted(sagas.items())
    )
    return "\n".join(lines) + "\n"


async def collect_metrics(connection: AsyncConnection) -> str:
    """Read the figures and render them (two cheap queries)."""
    return render_metrics(await outbox_status(connection), await saga_counts(connection))
