package dev.meshwork.api.health;

/** What a health event records. */
public enum HealthEventType {
    /** The origin node started (attribute {@code incarnation}). */
    NODE_STARTED,
    /** The origin node stopped on purpose. */
    NODE_STOPPED,
    /** The origin node reached the subject (attribute {@code route}: direct or relay, {@code via}). */
    PEER_UP,
    /** The origin node lost the subject. */
    PEER_DOWN,
    /** The origin moved traffic to the subject to another channel (attributes {@code from}, {@code to}). */
    ACTIVE_CHANNEL_CHANGED,
    /** A summary of RTT to the subject (attributes {@code p50_ms}, {@code p99_ms}, {@code channel}). */
    RTT_SUMMARY,
    /** A supervised gateway on the origin changed state (attributes {@code gateway}, {@code state}). */
    GATEWAY_STATE
}
