package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.HealthDocument;
import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * N sync engines in one JVM on a simulated network driven by one {@link ManualTime} and one
 * seeded {@link Random}: per-message delay (hence reordering), duplication, loss, links cut and
 * restored, nodes restarted with their persisted state or with none. Deterministic per seed.
 */
final class SimCluster {

    final ManualTime time = new ManualTime();
    final Random rnd;
    final SyncConfig config;
    final List<NodeId> ids = new ArrayList<>();
    final Map<NodeId, Node> nodes = new HashMap<>();
    final Set<Set<NodeId>> topology = new HashSet<>();
    final Set<Set<NodeId>> cut = new HashSet<>();
    double loss;
    double duplication;
    int maxDelayMillis = 1;
    long messages;
    long bytes;
    long eventCopies;
    long recorded;

    final class Node {
        final NodeId id;
        boolean up = true;
        int generation;
        SyncEngine engine;
        HealthDocument persisted = new HealthDocument();

        Node(NodeId id) {
            this.id = id;
        }

        void start(HealthDocument state, SyncEngine.Start start) {
            int gen = ++generation;
            HealthDocument doc = state;
            engine = new SyncEngine(id, doc, (to, payload) -> transmit(this, gen, to, payload), time, time, config,
                    rnd.nextLong(), events -> { }, seq -> persisted = doc.copy(), start);
            engine.start();
            engine.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of("incarnation", "i" + gen));
            recorded++;
        }
    }

    SimCluster(long seed, int n, SyncConfig config) {
        this.rnd = new Random(seed);
        this.config = config;
        for (int i = 0; i < n; i++) {
            NodeId id = NodeId.of("n" + i);
            ids.add(id);
            nodes.put(id, new Node(id));
        }
        // A random spanning tree plus a few extra links: connected, not necessarily complete.
        for (int i = 1; i < n; i++) {
            topology.add(Set.of(ids.get(i), ids.get(rnd.nextInt(i))));
        }
        for (int extra = rnd.nextInt(n); extra > 0; extra--) {
            NodeId a = ids.get(rnd.nextInt(n));
            NodeId b = ids.get(rnd.nextInt(n));
            if (!a.equals(b)) {
                topology.add(Set.of(a, b));
            }
        }
        for (Node node : nodes.values()) {
            node.start(new HealthDocument(), SyncEngine.Start.STATE_LOST); // a first start has no file either
        }
        for (Set<NodeId> link : sortedLinks()) {
            linkChanged(link, true);
        }
    }

    /** The links in a fixed order (by their sorted ends), so a seed replays the same schedule in any JVM. */
    List<Set<NodeId>> sortedLinks() {
        List<Set<NodeId>> links = new ArrayList<>(topology);
        links.sort(java.util.Comparator.comparing(l -> l.stream().sorted().map(NodeId::value).toList().toString()));
        return links;
    }

    boolean linkUsable(Set<NodeId> link) {
        return topology.contains(link) && !cut.contains(link) && link.stream().allMatch(id -> nodes.get(id).up);
    }

    private void linkChanged(Set<NodeId> link, boolean usable) {
        List<NodeId> ends = new ArrayList<>(link);
        ends.sort(null); // Set.of iterates in a per-JVM random order: sort for determinism
        for (int i = 0; i < 2; i++) {
            Node node = nodes.get(ends.get(i));
            if (node.up) {
                if (usable) {
                    node.engine.linkUp(ends.get(1 - i));
                } else {
                    node.engine.linkDown(ends.get(1 - i));
                }
            }
        }
    }

    private void transmit(Node from, int generation, NodeId to, byte[] payload) {
        Set<NodeId> link = Set.of(from.id, to);
        if (generation != from.generation || !from.up || !linkUsable(link)) {
            return;
        }
        messages++;
        bytes += payload.length;
        try {
            eventCopies += SyncCodec.decode(payload).eventCount();
        } catch (SyncCodec.MalformedSyncException e) {
            throw new AssertionError(e);
        }
        if (rnd.nextDouble() < loss) {
            return;
        }
        int copies = rnd.nextDouble() < duplication ? 2 : 1;
        for (int c = 0; c < copies; c++) {
            long delay = 1 + rnd.nextInt(maxDelayMillis);
            Node target = nodes.get(to);
            int targetGeneration = target.generation;
            time.schedule(() -> {
                // A message in flight when a link or node went down dies with the connection.
                if (target.up && target.generation == targetGeneration && linkUsable(link)) {
                    target.engine.onMessage(from.id, payload);
                }
            }, delay, TimeUnit.MILLISECONDS);
        }
    }

    void record(NodeId id) {
        Node node = nodes.get(id);
        if (!node.up) {
            return;
        }
        HealthEventType type = HealthEventType.values()[2 + rnd.nextInt(5)];
        NodeId subject = ids.get(rnd.nextInt(ids.size()));
        Map<String, String> attrs = type == HealthEventType.GATEWAY_STATE
                ? Map.of("gateway", "gw", "state", "RUNNING") : Map.of("route", "direct");
        node.engine.record(type, type == HealthEventType.GATEWAY_STATE ? Optional.empty() : Optional.of(subject), attrs);
        recorded++;
    }

    void setCut(Set<NodeId> link, boolean isCut) {
        boolean before = linkUsable(link);
        if (isCut) {
            cut.add(link);
        } else {
            cut.remove(link);
        }
        if (before != linkUsable(link)) {
            linkChanged(link, !before);
        }
    }

    void crash(NodeId id) {
        Node node = nodes.get(id);
        if (!node.up) {
            return;
        }
        List<Set<NodeId>> affected = sortedLinks().stream().filter(l -> l.contains(id) && linkUsable(l)).toList();
        affected.forEach(l -> linkChanged(l, false));
        node.generation++;
        node.engine.stop();
        node.up = false;
    }

    /** Restarts a crashed node from its persisted state, or from nothing (a lost state file). */
    void restart(NodeId id, boolean loseState) {
        Node node = nodes.get(id);
        if (node.up) {
            return;
        }
        node.up = true;
        // With its state file the node numbers at once: the persisted copy holds every own event
        // that ever left it (copied before sending).
        node.start(loseState ? new HealthDocument() : node.persisted.copy(),
                loseState ? SyncEngine.Start.STATE_LOST : SyncEngine.Start.STATE_INTACT);
        sortedLinks().stream().filter(l -> l.contains(id) && linkUsable(l)).forEach(l -> linkChanged(l, true));
    }

    void heal() {
        loss = 0;
        duplication = 0;
        for (Set<NodeId> link : sortedLinks()) {
            setCut(link, false);
        }
        for (NodeId id : ids) {
            restart(id, false);
        }
    }

    void advance(Duration d) {
        time.advance(d);
    }

    List<SyncEngine> engines() {
        return ids.stream().map(id -> nodes.get(id).engine).toList();
    }
}
