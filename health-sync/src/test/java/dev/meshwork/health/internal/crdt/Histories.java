package dev.meshwork.health.internal.crdt;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/** Random event histories and states that hold prefixes of them, for the lattice laws. */
final class Histories {

    static final List<NodeId> ORIGINS = List.of(NodeId.of("a"), NodeId.of("b"), NodeId.of("c"));
    static final int EVENTS_PER_ORIGIN = 12;
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Histories() {
    }

    /** Every origin's full log; event i of every origin is recorded at T0 + i seconds (plus jitter). */
    static Map<NodeId, List<HealthEvent>> universe(long seed) {
        Random r = new Random(seed);
        Map<NodeId, List<HealthEvent>> all = new TreeMap<>();
        HealthEventType[] types = HealthEventType.values();
        for (NodeId origin : ORIGINS) {
            List<HealthEvent> log = new ArrayList<>();
            for (int i = 1; i <= EVENTS_PER_ORIGIN; i++) {
                HealthEventType type = types[r.nextInt(types.length)];
                Optional<NodeId> subject = type == HealthEventType.NODE_STARTED || type == HealthEventType.NODE_STOPPED
                        || type == HealthEventType.GATEWAY_STATE
                        ? Optional.empty() : Optional.of(ORIGINS.get(r.nextInt(ORIGINS.size())));
                Map<String, String> attrs = type == HealthEventType.GATEWAY_STATE
                        ? Map.of("gateway", "g" + r.nextInt(2), "state", "RUNNING") : Map.of();
                log.add(new HealthEvent(origin, i, T0.plusSeconds(i).plusMillis(r.nextInt(500)), type, subject, attrs));
            }
            all.put(origin, log);
        }
        return all;
    }

    /**
     * A document holding, per origin, a prefix of the universe, compacted up to a point.
     *
     * @param spec per origin two numbers: prefix length, compacted length (clamped to the prefix)
     */
    static HealthDocument state(Map<NodeId, List<HealthEvent>> universe, List<Integer> spec) {
        HealthDocument d = new HealthDocument();
        for (int i = 0; i < ORIGINS.size(); i++) {
            List<HealthEvent> log = universe.get(ORIGINS.get(i));
            int prefix = spec.get(2 * i) % (EVENTS_PER_ORIGIN + 1);
            int compacted = Math.min(prefix, spec.get(2 * i + 1) % (EVENTS_PER_ORIGIN + 1));
            Summary s = Summary.EMPTY.fold(log.subList(0, compacted));
            d.apply(List.of(new Fragment(ORIGINS.get(i), compacted, compacted == 0 ? Optional.empty() : Optional.of(s),
                    log.subList(compacted, prefix))));
        }
        return d;
    }

    static HealthDocument join(HealthDocument x, HealthDocument y) {
        HealthDocument r = x.copy();
        r.merge(y);
        return r;
    }

    /**
     * The knowledge of a document: its version vector and every event it holds outside summaries
     * above {@code floor} per origin (representations may differ in how far they compacted).
     */
    static Map<NodeId, Object> knowledge(HealthDocument d, Map<NodeId, Long> floor) {
        Map<NodeId, Object> k = new TreeMap<>();
        d.snapshot().forEach((origin, s) -> {
            long f = floor.getOrDefault(origin, 0L);
            k.put(origin, List.of(s.version(), s.events().stream().filter(e -> e.seq() > f).toList()));
        });
        return k;
    }

    /** Per origin, the larger of the two documents' compaction points. */
    static Map<NodeId, Long> floor(HealthDocument x, HealthDocument y) {
        Map<NodeId, Long> f = new TreeMap<>();
        for (HealthDocument d : List.of(x, y)) {
            d.snapshot().forEach((o, s) -> f.merge(o, s.summary().covered(), Math::max));
        }
        return f;
    }
}
