package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import java.util.List;

/**
 * An immutable copy of one origin's log, for queries, persistence and equality in tests.
 *
 * @param origin  the origin
 * @param summary its compacted prefix
 * @param events  the events after the summary
 */
public record OriginSnapshot(NodeId origin, Summary summary, List<HealthEvent> events) {

    public OriginSnapshot {
        events = List.copyOf(events);
    }

    public long version() {
        return summary.covered() + events.size();
    }

    /** The whole log as a complete fragment. */
    public Fragment asFragment() {
        return new Fragment(origin, summary.covered(),
                summary.covered() == 0 ? java.util.Optional.empty() : java.util.Optional.of(summary), events);
    }
}
