package dev.meshwork.api.health;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One observation recorded by a node. Each node is the only writer of its own events, numbered
 * 1, 2, 3… per origin. Immutable.
 *
 * @param origin     the node that recorded it
 * @param seq        its number in the origin's log
 * @param at         when the origin recorded it (the origin's clock)
 * @param type       what it records
 * @param subject    the node it is about, if not the origin itself
 * @param attributes details, by type (see {@link HealthEventType})
 */
public record HealthEvent(NodeId origin, long seq, Instant at, HealthEventType type, Optional<NodeId> subject,
        Map<String, String> attributes) {

    public HealthEvent {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(subject, "subject");
        attributes = Map.copyOf(attributes);
        if (seq < 1) {
            throw new IllegalArgumentException("event sequence numbers start at 1: " + seq);
        }
    }
}
