package dev.meshwork.api.router;

import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened to a link. Immutable.
 *
 * @param type   what happened
 * @param peer   the link's state right after it happened
 * @param at     when
 * @param detail a human-readable line (the channel, the reason)
 */
public record PeerEvent(Type type, PeerInfo peer, Instant at, String detail) {

    public enum Type {
        /** The first channel of a peer completed its hello (or a relay route appeared). */
        PEER_UP,
        /** The peer is no longer reachable, directly or by relay. */
        PEER_DOWN,
        /** The peer came back with a new incarnation: its per-peer state was reset. */
        PEER_RESTARTED,
        /** A channel opened (hello completed). */
        CHANNEL_UP,
        /** A channel closed or went stale. */
        CHANNEL_DOWN,
        /** Traffic moved to another channel (failover or a better route). */
        ACTIVE_CHANNEL_CHANGED,
        /** The route changed between direct, relay and unreachable. */
        ROUTE_CHANGED,
        /** The peer refused us, or we refused it. */
        PEER_REFUSED
    }

    public PeerEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(detail, "detail");
    }
}
