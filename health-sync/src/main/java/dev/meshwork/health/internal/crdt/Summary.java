package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.health.HealthEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compacted prefix {@code 1..covered} of one origin's log: the latest event of every kind
 * (per subject or gateway) among those events, plus the last event overall.
 *
 * <p>Why this shape: a summary is a pure function of the prefix it covers ({@link #fold}), so two
 * nodes that compacted the same prefix hold equal summaries, and the one that covers more is
 * simply the later one. That makes "take the summary with the larger {@code covered}" a join.
 * Its size is bounded by the number of subjects and gateways, not by the number of events.
 *
 * @param covered the highest sequence number folded in (0: nothing compacted)
 * @param kept    the retained events, ascending by sequence number, without duplicates
 */
public record Summary(long covered, List<HealthEvent> kept) {

    public static final Summary EMPTY = new Summary(0, List.of());

    public Summary {
        if (covered < 0) {
            throw new IllegalArgumentException("covered must be >= 0: " + covered);
        }
        kept = List.copyOf(kept);
        for (HealthEvent e : kept) {
            if (e.seq() > covered) {
                throw new IllegalArgumentException("summary keeps event " + e.seq() + " beyond covered " + covered);
            }
        }
    }

    /** Folds {@code events} (contiguous, starting at {@code covered + 1}) into this summary. */
    public Summary fold(List<HealthEvent> events) {
        if (events.isEmpty()) {
            return this;
        }
        Map<String, HealthEvent> latest = new LinkedHashMap<>();
        for (HealthEvent e : kept) {
            latest.put(key(e), e);
        }
        HealthEvent last = kept.stream().max(Comparator.comparingLong(HealthEvent::seq)).orElse(null);
        for (HealthEvent e : events) {
            latest.put(key(e), e);
            last = e;
        }
        // The last event overall is kept too (the origin's last-seen time), de-duplicated by seq.
        Map<Long, HealthEvent> bySeq = new java.util.TreeMap<>();
        for (HealthEvent e : latest.values()) {
            bySeq.put(e.seq(), e);
        }
        bySeq.put(last.seq(), last);
        return new Summary(events.get(events.size() - 1).seq(), new ArrayList<>(bySeq.values()));
    }

    /** Which earlier event a new one supersedes in a summary. */
    static String key(HealthEvent e) {
        String subject = e.subject().map(Object::toString).orElse("");
        return switch (e.type()) {
            case NODE_STARTED -> "started";
            case NODE_STOPPED -> "stopped";
            case PEER_UP, PEER_DOWN -> "peer/" + subject;
            case ACTIVE_CHANNEL_CHANGED -> "channel/" + subject;
            case RTT_SUMMARY -> "rtt/" + subject;
            case GATEWAY_STATE -> "gateway/" + e.attributes().getOrDefault("gateway", "");
        };
    }
}
