package dev.meshwork.api.router;

/**
 * The state of one channel (one URL of a peer).
 *
 * <pre>
 *   IDLE ──dial──▶ CONNECTING ──connected──▶ AUTHENTICATING ──hello ok──▶ OPEN
 *                     │                          │                        │ closed / stale
 *                     └────── failure ───────────┴────────────────────────▼
 *                                                                      BACKOFF ──timer──▶ CONNECTING
 *   BACKOFF ──N identical permanent failures──▶ FAILED ──slow timer──▶ CONNECTING
 *   any ──intentional close / removal──▶ CLOSED
 * </pre>
 */
public enum ChannelState {
    IDLE,
    CONNECTING,
    AUTHENTICATING,
    OPEN,
    BACKOFF,
    FAILED,
    CLOSED
}
