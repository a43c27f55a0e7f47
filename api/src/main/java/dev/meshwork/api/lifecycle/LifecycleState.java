package dev.meshwork.api.lifecycle;

/**
 * The states of a supervised gateway.
 *
 * <pre>
 *   STOPPED ──start──▶ STARTING ──ready──▶ RUNNING ⇄ DEGRADED (heartbeat misses)
 *                         │                   │          │ K misses / exit
 *                         │ fail / exit       └──exit────┤
 *                         ▼                              ▼
 *                      BACKOFF ◀─────────────────────────┘ ──timer──▶ STARTING
 *   BACKOFF ──governor open or permanent exit──▶ FAILED ──slow retry / config change──▶ STARTING
 *   any ──stop──▶ STOPPING ──exited──▶ STOPPED
 * </pre>
 */
public enum LifecycleState {
    STOPPED,
    STARTING,
    RUNNING,
    DEGRADED,
    BACKOFF,
    FAILED,
    STOPPING
}
