package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One origin's part of the document: a summary of the compacted prefix and the events after it.
 *
 * <p>Invariant (the "complete prefix"): the log knows every event of its origin numbered
 * {@code 1..version()}, those up to {@code summary.covered} only through the summary, the rest
 * as {@code events} (event {@code i} has sequence {@code summary.covered + 1 + i}). Because the
 * origin is the only writer and never reuses a number, two complete prefixes of the same origin
 * agree where they overlap, so the longer one carries all the knowledge of the shorter. Not
 * thread-safe: {@link HealthDocument} guards it.
 */
final class OriginLog {

    private final NodeId origin;
    private Summary summary = Summary.EMPTY;
    private final ArrayList<HealthEvent> events = new ArrayList<>();
    /** Events received that differ from the held event with the same number (never joined). */
    int conflicts;

    OriginLog(NodeId origin) {
        this.origin = origin;
    }

    NodeId origin() {
        return origin;
    }

    Summary summary() {
        return summary;
    }

    List<HealthEvent> events() {
        return events;
    }

    long version() {
        return summary.covered() + events.size();
    }

    void append(HealthEvent e) {
        if (!e.origin().equals(origin) || e.seq() != version() + 1) {
            throw new IllegalArgumentException("expected " + origin + "#" + (version() + 1) + ", got "
                    + e.origin() + "#" + e.seq());
        }
        events.add(e);
    }

    /**
     * What a holder of {@code peerVersion} lacks, at most {@code maxEvents} events (a summary is
     * always whole), or null when it lacks nothing.
     */
    Fragment fragmentAfter(long peerVersion, int maxEvents) {
        if (peerVersion >= version()) {
            return null;
        }
        long covered = summary.covered();
        if (peerVersion < covered) {
            List<HealthEvent> tail = events.subList(0, Math.min(events.size(), maxEvents));
            return new Fragment(origin, covered, covered == 0 ? Optional.empty() : Optional.of(summary), tail);
        }
        int from = (int) (peerVersion - covered);
        int to = (int) Math.min(events.size(), (long) from + maxEvents);
        return new Fragment(origin, peerVersion, Optional.empty(), events.subList(from, to));
    }

    /**
     * Joins a fragment into this log.
     *
     * @return the events that are new here (null if the fragment starts beyond {@link #version()}:
     *         a gap, nothing applied)
     */
    List<HealthEvent> apply(Fragment f) {
        long before = version();
        if (!f.complete() && f.after() > before) {
            return null;
        }
        List<HealthEvent> fresh = new ArrayList<>();
        if (f.summary().isPresent() && f.summary().get().covered() > summary.covered()) {
            Summary incoming = f.summary().get();
            long drop = Math.min(events.size(), incoming.covered() - summary.covered());
            events.subList(0, (int) drop).clear();
            summary = incoming;
            for (HealthEvent e : incoming.kept()) {
                if (e.seq() > before) {
                    fresh.add(e);
                }
            }
        }
        for (HealthEvent e : f.events()) {
            if (e.seq() == version() + 1) {
                events.add(e);
                fresh.add(e);
            } else if (e.seq() > summary.covered() && e.seq() <= version()
                    && !events.get((int) (e.seq() - summary.covered() - 1)).equals(e)) {
                conflicts++;
            }
        }
        return fresh;
    }

    /**
     * Folds into the summary the leading events recorded before {@code cutoff}, and any beyond
     * the newest {@code maxEvents}. Stops at the first event at or after the cutoff, so only a
     * prefix is ever compacted (the origin's clock may step back; the prefix stays a prefix).
     *
     * @return how many events were compacted
     */
    int compact(Instant cutoff, int maxEvents) {
        int n = 0;
        while (n < events.size() && events.get(n).at().isBefore(cutoff)) {
            n++;
        }
        n = Math.max(n, events.size() - maxEvents);
        if (n <= 0) {
            return 0;
        }
        List<HealthEvent> head = events.subList(0, n);
        summary = summary.fold(new ArrayList<>(head));
        head.clear();
        return n;
    }

    OriginSnapshot snapshot() {
        return new OriginSnapshot(origin, summary, List.copyOf(events));
    }
}
