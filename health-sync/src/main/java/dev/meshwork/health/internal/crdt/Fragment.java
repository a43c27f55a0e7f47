package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A contiguous piece of one origin's log: events {@code after+1 .. after+n}, optionally preceded
 * by the summary of {@code 1..after} (then the fragment is a complete prefix and applies to any
 * state). The unit of every delta.
 *
 * @param origin  the node whose log it is
 * @param after   the sequence number the events follow
 * @param summary the summary of {@code 1..after}, when the receiver is assumed to lack compacted events
 * @param events  the events, contiguous
 */
public record Fragment(NodeId origin, long after, Optional<Summary> summary, List<HealthEvent> events) {

    public Fragment {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(summary, "summary");
        events = List.copyOf(events);
        if (after < 0) {
            throw new IllegalArgumentException("after must be >= 0: " + after);
        }
        if (summary.isPresent() && summary.get().covered() != after) {
            throw new IllegalArgumentException("a fragment's summary must cover exactly up to 'after'");
        }
        for (int i = 0; i < events.size(); i++) {
            HealthEvent e = events.get(i);
            if (!e.origin().equals(origin) || e.seq() != after + 1 + i) {
                throw new IllegalArgumentException("fragment of " + origin + " after " + after
                        + " is not contiguous at index " + i + ": " + e.origin() + "#" + e.seq());
            }
        }
    }

    /** The highest sequence number this fragment brings. */
    public long upTo() {
        return after + events.size();
    }

    /** Whether it applies to any state (no gap possible). */
    public boolean complete() {
        return after == 0 || summary.isPresent();
    }
}
