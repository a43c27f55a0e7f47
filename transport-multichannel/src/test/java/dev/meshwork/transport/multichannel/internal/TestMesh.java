package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.testkit.ManualTime;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/** Several {@link MeshCore}s on one {@link MemoryNetwork} and one {@link ManualTime}: the unit-test harness. */
final class TestMesh {

    static final String TOPIC = "test";

    final ManualTime time = new ManualTime();
    final MemoryNetwork net = new MemoryNetwork(time);
    final Map<String, Node> nodes = new LinkedHashMap<>();
    double random = 0.5;

    final class Node {
        final String name;
        Ed25519Identity identity;
        MeshCore core;
        final List<InboundMessage> received = new CopyOnWriteArrayList<>();
        final List<PeerEvent> events = new CopyOnWriteArrayList<>();

        Node(String name) {
            this.name = name;
            this.identity = Ed25519Identity.ephemeral(NodeId.of(name));
        }

        NodeId id() {
            return identity.nodeId();
        }

        URI url(int i) {
            return URI.create("mem://" + name + ":" + i + "/mesh");
        }

        Node start(UnaryOperator<RouterSettings> tweak, URI... listen) {
            Set<String> trusted = new java.util.HashSet<>();
            nodes.values().forEach(n -> trusted.add(n.identity.publicKeyBase64()));
            RouterSettings s = tweak.apply(RouterSettings.DEFAULTS.withTrustedKeys(trusted));
            core = new MeshCore(identity, s, time::nanoTime, time, time, time, () -> random);
            core.addTransport(net.transport(), List.of("mem"));
            core.addHandler(m -> {
                received.add(m);
                return CompletableFuture.completedFuture(null);
            }, List.of(TOPIC));
            core.addListener(events::add);
            core.start();
            for (URI u : listen) {
                core.listen(u).join();
            }
            return this;
        }

        /** A new process with the same keys: new incarnation. */
        Node restart(URI... listen) {
            core.close();
            identity = Ed25519Identity.restartOf(identity);
            received.clear();
            return start(UnaryOperator.identity(), listen);
        }

        void addPeer(Node other, URI... urls) {
            core.addPeer(new PeerConfig(other.id(), other.name, Arrays.asList(urls),
                    Optional.of(other.identity.publicKeyBase64())));
        }

        PeerInfo peer(Node other) {
            return core.peer(other.id()).orElseThrow();
        }

        long counter(String name) {
            return core.counters().getOrDefault(name, 0L);
        }

        List<String> payloads() {
            List<String> l = new ArrayList<>();
            received.forEach(m -> l.add(new String(m.payload())));
            return l;
        }
    }

    /** The typed failure {@code f} completed with; fails the test if it did not fail. */
    static MeshworkException failure(CompletableFuture<?> f) {
        assertTrue(f.isCompletedExceptionally(), () -> "expected a failure, got " + (f.isDone() ? f.join() : "nothing yet"));
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return assertInstanceOf(MeshworkException.class, e.getCause());
        }
    }

    Node node(String name) {
        Node n = new Node(name);
        nodes.put(name, n);
        return n;
    }

    void advanceMillis(long ms) {
        time.advance(Duration.ofMillis(ms));
    }

    /** Runs everything due now, a few rounds (frames answer frames). */
    void settle() {
        for (int i = 0; i < 50; i++) {
            time.runDue();
        }
        time.advance(Duration.ofMillis(1));
        for (int i = 0; i < 50; i++) {
            time.runDue();
        }
    }
}
