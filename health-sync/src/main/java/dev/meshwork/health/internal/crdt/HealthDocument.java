package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated health document: per origin node, a complete prefix of its event log (a
 * {@link Summary} of the compacted part and the events after it).
 *
 * <p><b>Why it is a join-semilattice.</b> The state is a map origin → complete prefix, ordered
 * pointwise by prefix length (every origin is the only writer of its log and never reuses a
 * sequence number, so prefixes of the same origin agree where they overlap). {@link #merge}
 * takes, per origin, the longer prefix, and of the two summaries the one covering more (a
 * summary is a pure function of the prefix it covers, see {@link Summary#fold}): pointwise max,
 * hence commutative, associative and idempotent. Compaction ({@link #compact}) changes the
 * representation but not the knowledge (the version vector and every event after the summary),
 * and merge after compaction gives the same knowledge as compaction after merge. The property
 * tests check these laws over random histories.
 *
 * <p>A delta is a list of {@link Fragment}s: for each origin, the interval the other side lacks
 * (with the summary if it lacks compacted events). Thread-safe: every method holds the monitor.
 */
public final class HealthDocument {

    private final TreeMap<NodeId, OriginLog> logs = new TreeMap<>();

    /** Appends an event recorded by its origin (the next sequence number of that origin). */
    public synchronized void append(HealthEvent event) {
        logs.computeIfAbsent(event.origin(), OriginLog::new).append(event);
    }

    /** The highest sequence number held per origin. */
    public synchronized SortedMap<NodeId, Long> versionVector() {
        TreeMap<NodeId, Long> vv = new TreeMap<>();
        logs.forEach((origin, log) -> {
            if (log.version() > 0) {
                vv.put(origin, log.version());
            }
        });
        return vv;
    }

    public synchronized long version(NodeId origin) {
        OriginLog log = logs.get(origin);
        return log == null ? 0 : log.version();
    }

    /**
     * Everything a holder of {@code peerVersion} lacks, at most {@code maxEvents} events in all
     * (a fragment is never split below one event, and summaries always travel whole).
     */
    public Delta deltaFor(Map<NodeId, Long> peerVersion, int maxEvents) {
        return deltaFor(peerVersion, maxEvents, null, Long.MAX_VALUE);
    }

    /**
     * As {@link #deltaFor(Map, int)}, but of {@code limited}'s log nothing beyond {@code limit}
     * (the own events not yet durable; an origin whose summary reaches beyond it is left out).
     */
    public synchronized Delta deltaFor(Map<NodeId, Long> peerVersion, int maxEvents, NodeId limited, long limit) {
        List<Fragment> fragments = new ArrayList<>();
        int budget = maxEvents;
        boolean truncated = false;
        for (OriginLog log : logs.values()) {
            long theirs = peerVersion.getOrDefault(log.origin(), 0L);
            long end = log.origin().equals(limited) ? Math.min(limit, log.version()) : log.version();
            if (theirs >= end || end < log.summary().covered() && theirs < log.summary().covered()) {
                continue;
            }
            if (budget <= 0) {
                truncated = true;
                break;
            }
            Fragment f = log.fragmentAfter(theirs, (int) Math.min(budget, end - Math.max(theirs, log.summary().covered())));
            fragments.add(f);
            budget -= f.events().size();
            if (f.upTo() < end) {
                truncated = true;
                break;
            }
        }
        return new Delta(List.copyOf(fragments), truncated);
    }

    /**
     * Joins fragments into the document.
     *
     * @return the events new here, in order, and whether a fragment was refused because it
     *         starts beyond what this document holds (a gap: ask the sender again)
     */
    public synchronized ApplyResult apply(List<Fragment> fragments) {
        List<HealthEvent> fresh = new ArrayList<>();
        boolean gap = false;
        int conflicts = 0;
        for (Fragment f : fragments) {
            OriginLog log = logs.computeIfAbsent(f.origin(), OriginLog::new);
            int conflictsBefore = log.conflicts;
            List<HealthEvent> added = log.apply(f);
            conflicts += log.conflicts - conflictsBefore;
            if (added == null) {
                gap = true;
            } else {
                fresh.addAll(added);
            }
        }
        logs.values().removeIf(l -> l.version() == 0);
        return new ApplyResult(List.copyOf(fresh), gap, conflicts);
    }

    /** Joins another document into this one (the lattice's least upper bound). */
    public List<HealthEvent> merge(HealthDocument other) {
        List<Fragment> all = new ArrayList<>();
        for (OriginSnapshot s : other.snapshot().values()) {
            all.add(s.asFragment());
        }
        return apply(all).fresh();
    }

    /**
     * Compacts, per origin, the events recorded before {@code cutoff} and any beyond the newest
     * {@code maxEventsPerOrigin} into the origin's summary.
     *
     * @return how many events were compacted
     */
    public synchronized int compact(Instant cutoff, int maxEventsPerOrigin) {
        int n = 0;
        for (OriginLog log : logs.values()) {
            n += log.compact(cutoff, maxEventsPerOrigin);
        }
        return n;
    }

    /** An immutable copy, by origin. */
    public synchronized Map<NodeId, OriginSnapshot> snapshot() {
        Map<NodeId, OriginSnapshot> copy = new LinkedHashMap<>();
        logs.forEach((origin, log) -> copy.put(origin, log.snapshot()));
        return Collections.unmodifiableMap(copy);
    }

    /**
     * A number that grows with every change of what the document holds or how (an event joined,
     * a summary taken over, a compaction): the sum of the origins' versions and summary ends.
     * Equal numbers mean an unchanged document, as nothing ever shrinks.
     */
    public synchronized long changeMark() {
        long mark = 0;
        for (OriginLog log : logs.values()) {
            mark += log.version() + log.summary().covered();
        }
        return mark;
    }

    /** Total events held outside summaries. */
    public synchronized int eventCount() {
        return logs.values().stream().mapToInt(l -> l.events().size()).sum();
    }

    /** A document holding a copy of this one's state. */
    public HealthDocument copy() {
        HealthDocument d = new HealthDocument();
        d.merge(this);
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HealthDocument other && snapshot().equals(other.snapshot());
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }

    @Override
    public String toString() {
        return "HealthDocument" + versionVector();
    }

    /**
     * A delta: fragments and whether the size limit cut it short.
     *
     * @param fragments the fragments
     * @param truncated whether more remains
     */
    public record Delta(List<Fragment> fragments, boolean truncated) {

        public boolean isEmpty() {
            return fragments.isEmpty();
        }

        public int eventCount() {
            return fragments.stream().mapToInt(f -> f.events().size()).sum();
        }
    }

    /**
     * The outcome of {@link #apply}.
     *
     * @param fresh the events new here
     * @param gap       whether a fragment was refused for a gap
     * @param conflicts events that differ from held ones with the same number (an origin that
     *                  lost its state reused numbers); the held ones are kept
     */
    public record ApplyResult(List<HealthEvent> fresh, boolean gap, int conflicts) {
    }
}
