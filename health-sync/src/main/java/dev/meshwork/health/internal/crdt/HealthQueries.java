package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.health.NodeStatus;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.health.Reachability;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Answers the {@link dev.meshwork.api.health.HealthView} questions from one snapshot of the
 * document: who sees whom, a node's merged status, its timeline and its uptime.
 *
 * <p>An observer's observations end with its own next start or orderly stop (a restarted
 * observer re-records what it sees), so a stopped node does not keep reporting stale links.
 */
public final class HealthQueries {

    private final Map<NodeId, OriginSnapshot> origins;

    public HealthQueries(Map<NodeId, OriginSnapshot> origins) {
        this.origins = origins;
    }

    /** Summary-kept and retained events of one origin, ascending by sequence number. */
    static List<HealthEvent> allEvents(OriginSnapshot s) {
        List<HealthEvent> all = new ArrayList<>(s.summary().kept());
        all.addAll(s.events());
        return all;
    }

    public List<NodeId> nodes() {
        TreeSet<NodeId> nodes = new TreeSet<>(origins.keySet());
        for (OriginSnapshot s : origins.values()) {
            for (HealthEvent e : allEvents(s)) {
                e.subject().ifPresent(nodes::add);
            }
        }
        return List.copyOf(nodes);
    }

    public List<Observation> observations() {
        List<Observation> result = new ArrayList<>();
        for (OriginSnapshot s : origins.values()) {
            Map<NodeId, HealthEvent> latest = new TreeMap<>();
            for (HealthEvent e : allEvents(s)) {
                if (e.type() == HealthEventType.NODE_STARTED || e.type() == HealthEventType.NODE_STOPPED) {
                    latest.clear();
                } else if ((e.type() == HealthEventType.PEER_UP || e.type() == HealthEventType.PEER_DOWN)
                        && e.subject().isPresent()) {
                    latest.put(e.subject().get(), e);
                }
            }
            latest.forEach((subject, e) -> result.add(observation(e)));
        }
        return result;
    }

    private static Observation observation(HealthEvent e) {
        if (e.type() == HealthEventType.PEER_DOWN) {
            return new Observation(e.origin(), e.subject().orElseThrow(), Reachability.DOWN, Optional.empty(), e.at());
        }
        boolean relay = "relay".equals(e.attributes().get("route"));
        Optional<NodeId> via = Optional.ofNullable(e.attributes().get("via")).filter(NodeId::isValid).map(NodeId::of);
        return new Observation(e.origin(), e.subject().orElseThrow(), relay ? Reachability.RELAY : Reachability.DIRECT,
                relay ? via : Optional.empty(), e.at());
    }

    public Optional<NodeStatus> status(NodeId node) {
        if (!nodes().contains(node)) {
            return Optional.empty();
        }
        List<Observation> seenBy = observations().stream().filter(o -> o.subject().equals(node)).toList();
        Reachability best = seenBy.stream().map(Observation::reachability)
                .min(Comparator.naturalOrder()).orElse(Reachability.UNKNOWN);
        Instant lastSeen = null;
        Instant startedAt = null;
        boolean stopped = false;
        OriginSnapshot own = origins.get(node);
        if (own != null) {
            List<HealthEvent> mine = allEvents(own);
            if (!mine.isEmpty()) {
                HealthEvent last = mine.get(mine.size() - 1);
                lastSeen = last.at();
                stopped = last.type() == HealthEventType.NODE_STOPPED;
            }
            for (HealthEvent e : mine) {
                if (e.type() == HealthEventType.NODE_STARTED) {
                    startedAt = e.at();
                }
            }
        }
        for (OriginSnapshot s : origins.values()) {
            for (HealthEvent e : allEvents(s)) {
                if ((e.type() == HealthEventType.PEER_UP || e.type() == HealthEventType.RTT_SUMMARY)
                        && e.subject().filter(node::equals).isPresent() && (lastSeen == null || e.at().isAfter(lastSeen))) {
                    lastSeen = e.at();
                }
            }
        }
        return Optional.of(new NodeStatus(node, best, seenBy, Optional.ofNullable(lastSeen), Optional.ofNullable(startedAt), stopped));
    }

    public List<HealthEvent> timeline(NodeId node, Instant since, int limit) {
        OriginSnapshot s = origins.get(node);
        if (s == null || limit <= 0) {
            return List.of();
        }
        List<HealthEvent> from = s.events().stream().filter(e -> !e.at().isBefore(since)).toList();
        return from.subList(Math.max(0, from.size() - limit), from.size());
    }

    /**
     * The fraction of {@code [now - window, now]} during which some observer (the node itself
     * counts between its start and its orderly stop) saw {@code node} up.
     */
    public double uptime(NodeId node, Duration window, Instant now) {
        if (window.isZero() || window.isNegative()) {
            return 0;
        }
        Instant from = now.minus(window);
        List<Instant[]> intervals = new ArrayList<>();
        for (OriginSnapshot s : origins.values()) {
            boolean self = s.origin().equals(node);
            Instant upSince = null;
            for (HealthEvent e : allEvents(s)) {
                boolean about = e.subject().filter(node::equals).isPresent();
                boolean up;
                if (e.type() == HealthEventType.NODE_STARTED) {
                    up = self;
                } else if (e.type() == HealthEventType.NODE_STOPPED) {
                    up = false;
                } else if (about && e.type() == HealthEventType.PEER_UP) {
                    up = true;
                } else if (about && e.type() == HealthEventType.PEER_DOWN) {
                    up = false;
                } else {
                    continue;
                }
                if (up && upSince == null) {
                    upSince = e.at();
                } else if (!up && upSince != null) {
                    intervals.add(new Instant[] {upSince, e.at()});
                    upSince = null;
                }
            }
            if (upSince != null) {
                intervals.add(new Instant[] {upSince, now});
            }
        }
        intervals.sort(Comparator.comparing(i -> i[0]));
        long covered = 0;
        Instant cursor = from;
        for (Instant[] i : intervals) {
            Instant start = i[0].isAfter(cursor) ? i[0] : cursor;
            Instant end = i[1].isBefore(now) ? i[1] : now;
            if (end.isAfter(start)) {
                covered += Duration.between(start, end).toMillis();
                cursor = end;
            }
        }
        return Math.min(1.0, covered / (double) window.toMillis());
    }
}
