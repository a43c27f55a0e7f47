package dev.meshwork.api.outbox;

/**
 * The lifecycle of one outbox row.
 *
 * <pre>
 *   enqueue ─▶ PENDING ──drain──▶ INFLIGHT ──acked──▶ DONE ──purge──▶ (gone)
 *                ▲                   │
 *                └─retryable, backoff┤
 *                                    ├─attempt cap or permanent failure──▶ DEAD
 *   PENDING, DEAD ──abort──▶ ABORTED     DEAD, ABORTED ──retry──▶ PENDING
 *   INFLIGHT at start-up (its owner crashed) ──▶ PENDING
 * </pre>
 */
public enum OutboxState {
    PENDING,
    INFLIGHT,
    DONE,
    DEAD,
    ABORTED
}
