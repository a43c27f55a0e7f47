package dev.meshwork.api.router;

/**
 * The state of the logical link to a peer.
 *
 * <pre>
 *   CONNECTING ──first hello──▶ UP ◀──────────┐
 *       │                        │ last channel lost
 *       │                        ▼            │ a channel's hello
 *       └──────────────────▶   DOWN ──────────┘
 *   any ──peer refused our key / Goodbye──▶ REFUSED ──retry with backoff──▶ CONNECTING
 *   any ──removePeer──▶ REMOVED
 * </pre>
 */
public enum LinkState {
    /** No channel has completed its hello yet. */
    CONNECTING,
    /** At least one channel is open and authenticated. */
    UP,
    /** Every channel was lost; channels are reconnecting with backoff. */
    DOWN,
    /**
     * The peer refused us or said Goodbye; the status says why. Retried with the regular capped
     * backoff (the peer may not have our configuration yet), and at once when the peer's
     * configuration is applied again.
     */
    REFUSED,
    /** The peer was removed. */
    REMOVED
}
