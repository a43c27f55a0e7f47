package dev.meshwork.bench;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.bench.health.AutomergeRun;
import dev.meshwork.bench.health.BenchMesh;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.health.internal.sync.SyncEngine;
import dev.meshwork.health.internal.wire.Event;
import dev.meshwork.health.internal.wire.EventType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * {@code ./bench health}: 32 nodes running the health bundle's real sync engine and codec in one
 * JVM on a simulated network (virtual time, 2 ms per hop + up to 1 ms jitter, random topology of
 * degree 4). Measures event propagation to every node (p99, virtual ms), bytes per event per link
 * against the encoded event, catch-up of a node that missed 10,000 events (virtual network time
 * plus the CPU time the catch-up took), and bytes/CPU time against Automerge 3.5.0 replicating
 * the same history over the same topology with its two-party sync protocol in Node.js.
 *
 * <p>Arguments (optional): {@code events=300 nodes=32 seed=42}.
 */
public final class HealthBench {

    private HealthBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            a.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        int n = Integer.parseInt(a.getOrDefault("nodes", "32"));
        int eventCount = Integer.parseInt(a.getOrDefault("events", "300"));
        long seed = Long.parseLong(a.getOrDefault("seed", "42"));
        SyncConfig config = SyncConfig.DEFAULTS; // push window 100 ms, anti-entropy 30 s

        Map<String, Long> recordedAt = new HashMap<>();
        Map<String, Integer> learners = new HashMap<>();
        List<Long> latencies = new ArrayList<>();
        BenchMesh[] holder = new BenchMesh[1];
        BenchMesh mesh = new BenchMesh(n, 4, seed, config, Duration.ofMillis(2), 1000, (node, events) -> {
            for (HealthEvent e : events) {
                String key = e.origin() + "#" + e.seq();
                if (e.origin().equals(node)) {
                    recordedAt.put(key, holder[0].time.nanoTime());
                } else if (learners.merge(key, 1, Integer::sum) == n - 1 && recordedAt.containsKey(key)) {
                    latencies.add(holder[0].time.nanoTime() - recordedAt.get(key));
                }
            }
        });
        holder[0] = mesh;
        mesh.time.advance(Duration.ofSeconds(5)); // starts and first digests; every node RECORDING

        // Phase 1: an event history at random nodes, 50-400 ms apart.
        Random rnd = new Random(seed);
        HealthEventType[] types = {HealthEventType.PEER_UP, HealthEventType.PEER_DOWN, HealthEventType.RTT_SUMMARY,
                HealthEventType.ACTIVE_CHANNEL_CHANGED};
        latencies.clear();
        long bytesBefore = mesh.bytes;
        long messagesBefore = mesh.messages;
        long cpu0 = System.nanoTime();
        for (int i = 0; i < eventCount; i++) {
            NodeId origin = mesh.ids.get(rnd.nextInt(n));
            NodeId subject = mesh.ids.get(rnd.nextInt(n));
            HealthEventType type = types[rnd.nextInt(types.length)];
            Map<String, String> attrs = switch (type) {
                case PEER_UP -> Map.of("route", "direct", "channel", "ws://10.0.0." + rnd.nextInt(256) + ":7400/mesh");
                case RTT_SUMMARY -> Map.of("p50_ms", Integer.toString(1 + rnd.nextInt(80)), "channel", "ws://10.0.0." + rnd.nextInt(256) + ":7400/mesh");
                case ACTIVE_CHANNEL_CHANGED -> Map.of("to", "ws://10.0.1." + rnd.nextInt(256) + ":7400/mesh");
                default -> Map.of("detail", "PEER_DOWN");
            };
            mesh.engines.get(origin).record(type, Optional.of(subject), attrs);
            mesh.time.advance(Duration.ofMillis(50 + rnd.nextInt(351)));
        }
        mesh.time.advance(Duration.ofSeconds(5));
        double meshCpuMs = (System.nanoTime() - cpu0) / 1e6;
        long eventBytes = mesh.bytes - bytesBefore;
        long eventMessages = mesh.messages - messagesBefore;
        Map<NodeId, Long> vv0 = mesh.engines.get(mesh.ids.get(0)).document().versionVector();
        boolean converged = mesh.engines.values().stream().allMatch(e -> e.document().versionVector().equals(vv0));

        // The history as recorded, for Automerge and for the encoded event size.
        List<HealthEvent> history = new ArrayList<>();
        mesh.engines.get(mesh.ids.get(0)).document().snapshot().values().forEach(s -> history.addAll(s.events()));
        history.sort(Comparator.comparing(HealthEvent::at).thenComparing(HealthEvent::origin).thenComparingLong(HealthEvent::seq));
        double encodedEvent = history.stream().mapToInt(HealthBench::encodedSize).average().orElse(0);
        latencies.sort(null);
        double p50 = latencies.get(latencies.size() / 2) / 1e6;
        double p99 = latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1) / 1e6;
        double max = latencies.get(latencies.size() - 1) / 1e6;
        int links = mesh.links.size();
        double perEventLink = eventBytes / (double) (history.size() * links);

        // Phase 2: one node misses 10,000 events, then rejoins.
        NodeId late = mesh.ids.get(n - 1);
        List<Set<NodeId>> lateLinks = mesh.links.stream().filter(l -> l.contains(late)).toList();
        lateLinks.forEach(l -> mesh.setUp(l, false));
        for (int i = 0; i < 10_000; i++) {
            NodeId origin = mesh.ids.get(rnd.nextInt(n - 1));
            mesh.engines.get(origin).record(HealthEventType.RTT_SUMMARY, Optional.of(mesh.ids.get(rnd.nextInt(n))),
                    Map.of("p50_ms", Integer.toString(1 + rnd.nextInt(80)), "channel", "ws://10.0.0.1:7400/mesh"));
            mesh.time.advance(Duration.ofMillis(1));
        }
        mesh.time.advance(Duration.ofSeconds(5));
        Map<NodeId, Long> target = mesh.engines.get(mesh.ids.get(0)).document().versionVector();
        SyncEngine lateEngine = mesh.engines.get(late);
        long behind = target.values().stream().mapToLong(Long::longValue).sum()
                - lateEngine.document().versionVector().values().stream().mapToLong(Long::longValue).sum();
        long virtual0 = mesh.time.nanoTime();
        long catchCpu0 = System.nanoTime();
        long catchBytes0 = mesh.bytes;
        lateLinks.forEach(l -> mesh.setUp(l, true));
        while (!lateEngine.document().versionVector().equals(target) && mesh.time.nanoTime() - virtual0 < 60_000_000_000L) {
            mesh.time.advance(Duration.ofMillis(1));
        }
        double catchVirtualMs = (mesh.time.nanoTime() - virtual0) / 1e6;
        double catchCpuMs = (System.nanoTime() - catchCpu0) / 1e6;
        boolean caughtUp = lateEngine.document().versionVector().equals(target);
        long catchBytes = mesh.bytes - catchBytes0;

        // Automerge on the same history and topology.
        List<Map<String, Object>> amEvents = new ArrayList<>();
        for (HealthEvent e : history) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("origin", e.origin().value());
            m.put("seq", e.seq());
            m.put("at", e.at().toEpochMilli());
            m.put("type", e.type().name());
            m.put("subject", e.subject().map(NodeId::value).orElse(""));
            m.put("attributes", e.attributes());
            amEvents.add(m);
        }
        List<List<String>> amLinks = mesh.links.stream().map(l -> l.stream().map(NodeId::value).sorted().toList()).toList();
        AutomergeRun.Result am = AutomergeRun.run(Path.of("benchmarks/target/health-automerge"),
                mesh.ids.stream().map(NodeId::value).toList(), amLinks, amEvents);
        double vsAutomerge = eventBytes / (double) am.bytes();

        System.out.printf("health: %d nodes, %d links (random, degree ~4), in-process real SyncEngine + protobuf codec, "
                + "simulated network (virtual time, 2 ms/hop + <=1 ms jitter), push window %d ms, anti-entropy %d s%n",
                n, links, config.pushWindow().toMillis(), config.antiEntropyInterval().toSeconds());
        System.out.printf("%-44s %14s %14s%n", "", "Meshwork", "Automerge 3.5");
        System.out.printf("%-44s %14d %14d%n", "events replicated", history.size(), am.events());
        System.out.printf("%-44s %14s %14s%n", "all nodes identical", converged, am.converged());
        System.out.printf("%-44s %14d %14d%n", "messages", eventMessages, am.messages());
        System.out.printf("%-44s %14d %14d%n", "bytes on the wire", eventBytes, am.bytes());
        System.out.printf("%-44s %14.1f %14.1f%n", "bytes per event per link", perEventLink, am.bytes() / (double) (history.size() * links));
        System.out.printf("%-44s %14.1f %14.1f%n", "CPU ms to replicate the history (1 JVM/proc)", meshCpuMs, am.millis());
        System.out.printf("%-44s %14.1f %14s%n", "encoded event (protobuf, avg bytes)", encodedEvent, "");
        System.out.printf("%-44s %14.2f %14s%n", "bytes per event per link / encoded event", perEventLink / encodedEvent, "target <= 2");
        System.out.printf("%-44s %14.1f %14s%n", "propagation to all nodes p50 (virtual ms)", p50, "");
        System.out.printf("%-44s %14.1f %14s%n", "propagation to all nodes p99 (virtual ms)", p99, "target <= 500");
        System.out.printf("%-44s %14.1f %14s%n", "propagation to all nodes max (virtual ms)", max, "");
        System.out.printf("%-44s %14d %14s%n", "catch-up: events missed", behind, "");
        System.out.printf("%-44s %14s %14s%n", "catch-up: complete", caughtUp, "");
        System.out.printf("%-44s %14.1f %14s%n", "catch-up: virtual network ms", catchVirtualMs, "");
        System.out.printf("%-44s %14.1f %14s%n", "catch-up: CPU ms (whole mesh, 1 thread)", catchCpuMs, "");
        System.out.printf("%-44s %14d %14s%n", "catch-up: bytes", catchBytes, "");
        System.out.printf("%-44s %14.3f %14s%n", "bytes vs Automerge", vsAutomerge, "target <= 0.5");
        System.out.printf("RESULT health p99_ms=%d bytes_per_event_link=%d bytes_vs_automerge=%.3f catchup_ms=%d%n",
                Math.round(p99), Math.round(perEventLink), vsAutomerge, Math.round(catchVirtualMs + catchCpuMs));
    }

    private static int encodedSize(HealthEvent e) {
        Event.Builder b = Event.newBuilder().setSeq(e.seq()).setAtMillis(e.at().toEpochMilli())
                .setType(EventType.forNumber(e.type().ordinal() + 1)).putAllAttributes(e.attributes());
        e.subject().ifPresent(s -> b.setSubject(s.value()));
        return b.build().getSerializedSize();
    }
}
