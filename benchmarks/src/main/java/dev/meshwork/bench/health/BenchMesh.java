package dev.meshwork.bench.health;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.health.internal.crdt.HealthDocument;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.health.internal.sync.SyncEngine;
import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * N real {@link SyncEngine}s (the health bundle's own sync code and protobuf codec) in one JVM
 * on a simulated network in virtual time: every message crosses a link after a fixed latency
 * plus jitter. Counts every byte sent.
 */
public final class BenchMesh {

    public final ManualTime time = new ManualTime();
    public final List<NodeId> ids = new ArrayList<>();
    public final Map<NodeId, SyncEngine> engines = new HashMap<>();
    public final Set<Set<NodeId>> links = new HashSet<>();
    public final Set<Set<NodeId>> down = new HashSet<>();
    private final Random rnd;
    private final Duration latency;
    private final int jitterMicros;
    public long bytes;
    public long messages;

    public BenchMesh(int n, int degree, long seed, SyncConfig config, Duration latency, int jitterMicros,
            BiConsumer<NodeId, List<HealthEvent>> learned) {
        this.rnd = new Random(seed);
        this.latency = latency;
        this.jitterMicros = jitterMicros;
        for (int i = 0; i < n; i++) {
            ids.add(NodeId.of(String.format("node-%02d", i)));
        }
        for (int i = 1; i < n; i++) {
            links.add(Set.of(ids.get(i), ids.get(rnd.nextInt(i))));
        }
        while (links.size() < n * degree / 2) {
            NodeId a = ids.get(rnd.nextInt(n));
            NodeId b = ids.get(rnd.nextInt(n));
            if (!a.equals(b)) {
                links.add(Set.of(a, b));
            }
        }
        for (NodeId id : ids) {
            SyncEngine e = new SyncEngine(id, new HealthDocument(), (to, payload) -> send(id, to, payload), time, time,
                    config, rnd.nextLong(), events -> learned.accept(id, events), seq -> { });
            engines.put(id, e);
            e.start();
        }
        for (Set<NodeId> l : links) {
            setUp(l, true);
        }
    }

    public void setUp(Set<NodeId> link, boolean up) {
        if (up) {
            down.remove(link);
        } else {
            down.add(link);
        }
        List<NodeId> ends = new ArrayList<>(link);
        for (int i = 0; i < 2; i++) {
            if (up) {
                engines.get(ends.get(i)).linkUp(ends.get(1 - i));
            } else {
                engines.get(ends.get(i)).linkDown(ends.get(1 - i));
            }
        }
    }

    private void send(NodeId from, NodeId to, byte[] payload) {
        Set<NodeId> link = Set.of(from, to);
        if (down.contains(link)) {
            return;
        }
        bytes += payload.length;
        messages++;
        long delay = latency.toNanos() + TimeUnit.MICROSECONDS.toNanos(rnd.nextInt(jitterMicros + 1));
        time.schedule(() -> {
            if (!down.contains(link)) {
                engines.get(to).onMessage(from, payload);
            }
        }, delay, TimeUnit.NANOSECONDS);
    }
}
