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
 *   RUNNING/DEGRADED ──blue/green restart──▶ SWITCHING ──new process ready──▶ RUNNING (old one stopped)
 *                                            SWITCHING ──new process not ready──▶ RUNNING/DEGRADED (old one serves on)
 *                                            SWITCHING ──old process exited──▶ STARTING
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
    STOPPING,
    /**
     * A blue/green restart is under way: the old process still serves on its port while the new
     * one starts on the other port; the old one is stopped only once the new one is ready.
     *
     * @since 1.1
     */
    SWITCHING
}
