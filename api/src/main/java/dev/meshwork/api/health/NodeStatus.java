package dev.meshwork.api.health;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The merged status of one node. Immutable.
 *
 * @param node        the node
 * @param best        the best reachability any observer records (DIRECT over RELAY over DOWN)
 * @param seenBy      every observer's latest observation of it
 * @param lastSeen    the latest time an observer recorded it up, or it recorded anything itself
 * @param startedAt   when it last started, as it recorded
 * @param stopped     whether its last own event is an orderly stop
 */
public record NodeStatus(NodeId node, Reachability best, List<Observation> seenBy, Optional<Instant> lastSeen,
        Optional<Instant> startedAt, boolean stopped) {

    public NodeStatus {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(best, "best");
        seenBy = List.copyOf(seenBy);
        Objects.requireNonNull(lastSeen, "lastSeen");
        Objects.requireNonNull(startedAt, "startedAt");
    }
}
