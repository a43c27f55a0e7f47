package dev.meshwork.api.outbox;

import dev.meshwork.api.NodeId;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Outbox figures at one moment. Immutable.
 *
 * @param byState           row count per state
 * @param pendingByTarget   pending and inflight rows per target
 * @param oldestPendingAge  age of the oldest pending row, if any
 * @param deliveredPerSecond rows that became done per second, over the last minute
 */
public record OutboxStats(Map<OutboxState, Long> byState, Map<NodeId, Long> pendingByTarget,
        Optional<Duration> oldestPendingAge, double deliveredPerSecond) {

    public OutboxStats {
        byState = Map.copyOf(byState);
        pendingByTarget = Map.copyOf(pendingByTarget);
        Objects.requireNonNull(oldestPendingAge, "oldestPendingAge");
    }

    public long count(OutboxState state) {
        return byState.getOrDefault(state, 0L);
    }
}
