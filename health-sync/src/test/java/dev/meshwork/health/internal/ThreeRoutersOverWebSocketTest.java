package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.health.Reachability;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerListener;
import dev.meshwork.health.internal.sync.OwnLogState;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.testkit.Await;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.ws.internal.WsSettings;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Routers ({@link MeshCore}) over the real WebSocket transport on loopback, each with
 * its own {@link HealthNode} and data directory, wired as the DS components wire them (handler for
 * {@link HealthNode#TOPIC}, peer listener). Links a–b and b–c only: whatever c learns of a comes
 * through b's replica.
 */
class ThreeRoutersOverWebSocketTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** A URL nobody listens on: the passive side of a link knows the peer's key, the other side dials. */
    private static final URI NOWHERE = URI.create("ws://127.0.0.1:1/unused");
    /** The shipped defaults (anti-entropy every 30 s): nothing here may wait for an anti-entropy round. */
    private static final SyncConfig SYNC = SyncConfig.DEFAULTS;
    private static final WsSettings WS = new WsSettings(1, true, 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(3), Duration.ofSeconds(5), 64 * 1024, 256 * 1024, false, "meshwork.v1",
            WsSettings.TlsSettings.NONE, "test");

    @TempDir
    Path dir;

    private final List<RealNode> started = new ArrayList<>();

    /** One process's worth of a node: identity from its data dir, a router, a WS transport, a health replica. */
    final class RealNode {
        final String name;
        final Path dataDir;
        final Ed25519Identity identity;
        final WsTransportEngine ws;
        final MeshCore router;
        final ScheduledExecutorService routerScheduler = Executors.newSingleThreadScheduledExecutor();
        final ExecutorService callbacks = Executors.newCachedThreadPool();
        final ScheduledExecutorService healthExecutor = Executors.newSingleThreadScheduledExecutor();
        final HealthNode health;
        final URI listening;
        private final MessageHandler handler;
        private final PeerListener listener;
        private boolean closed;

        RealNode(String name) throws Exception {
            this(name, SYNC);
        }

        RealNode(String name, SyncConfig sync) throws Exception {
            this(name, sync, true);
        }

        /** @param listen whether the handler and listener are registered now ({@link #listen} does it later) */
        RealNode(String name, SyncConfig sync, boolean listen) throws Exception {
            this.name = name;
            this.dataDir = dir.resolve(name);
            identity = Ed25519Identity.loadOrCreate(dataDir.resolve("identity"), Optional.of(NodeId.of(name)));
            ws = new WsTransportEngine(WS, () -> Optional.of(name), System::nanoTime, InstantSource.system());
            router = new MeshCore(identity, RouterSettings.DEFAULTS.withTrustedKeys(Set.of()), System::nanoTime,
                    InstantSource.system(), routerScheduler, callbacks, () -> ThreadLocalRandom.current().nextDouble());
            router.addTransport(ws, List.of("ws"));
            router.start();
            listening = router.listen(URI.create("ws://127.0.0.1:0/mesh")).get(10, TimeUnit.SECONDS);
            health = new HealthNode(router, new StateStore(dataDir.resolve("health").resolve("state.bin")), sync,
                    InstantSource.system(), healthExecutor, Duration.ofMillis(200), Duration.ofMinutes(5), events -> { });
            onHealthThread(health::start);
            // as the whiteboard registers the component's services once it is active
            handler = m -> {
                health.onSyncMessage(m);
                return CompletableFuture.completedFuture(null);
            };
            listener = health::onPeerEvent;
            if (listen) {
                listen();
            }
            started.add(this);
        }

        void listen() {
            router.addHandler(handler, List.of(HealthNode.TOPIC));
            router.addListener(listener);
        }

        NodeId id() {
            return identity.nodeId();
        }

        /** Configures {@code other} as a peer; dials it when {@code dial}, otherwise only accepts it. */
        void peer(RealNode other, boolean dial) {
            router.addPeer(new PeerConfig(other.id(), other.name, List.of(dial ? other.listening : NOWHERE),
                    Optional.of(other.identity.publicKeyBase64())));
        }

        boolean up(RealNode other) {
            return router.peer(other.id()).map(p -> p.state() == LinkState.UP).orElse(false);
        }

        long seqOf(RealNode origin) {
            return health.versionVector().getOrDefault(origin.id(), 0L);
        }

        long conflicting() {
            return onHealthThreadGet(() -> health.counters().getOrDefault("events.conflicting", 0L));
        }

        void onHealthThread(Runnable r) {
            try {
                healthExecutor.submit(r).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(name + ": " + e, e);
            }
        }

        <T> T onHealthThreadGet(java.util.concurrent.Callable<T> c) {
            try {
                return healthExecutor.submit(c).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(name + ": " + e, e);
            }
        }

        /** An orderly stop, in the order the framework stops the bundles: health, then router, then transport. */
        void close() {
            if (closed) {
                return;
            }
            closed = true;
            // the framework unregisters the whiteboard services before it deactivates the component
            router.removeHandler(handler);
            router.removeListener(listener);
            try {
                onHealthThread(health::stop);
            } finally {
                healthExecutor.shutdownNow();
                router.close();
                ws.close();
                routerScheduler.shutdownNow();
                callbacks.shutdownNow();
            }
        }
    }

    @AfterEach
    void tearDown() {
        for (RealNode n : started) {
            try {
                n.close();
            } catch (RuntimeException e) {
                // the test's own assertion already said what went wrong
            }
        }
    }

    private static boolean observes(RealNode at, RealNode observer, RealNode subject, Reachability r) {
        List<Observation> obs = at.health.observations();
        return obs.stream().anyMatch(o -> o.observer().equals(observer.id()) && o.subject().equals(subject.id())
                && o.reachability() == r);
    }

    private static boolean sameVersionVectors(RealNode... nodes) {
        Map<NodeId, Long> first = nodes[0].health.versionVector();
        for (RealNode n : nodes) {
            if (!n.health.versionVector().equals(first)) {
                return false;
            }
        }
        return first.size() == nodes.length;
    }

    @Test
    void threeRoutersOverWebSocketsConvergeRelayObservationsSeeAPartitionAndContinueTheLogAfterARestart()
            throws Exception {
        RealNode a = new RealNode("a");
        RealNode b = new RealNode("b");
        RealNode c = new RealNode("c");
        a.peer(b, true);
        b.peer(a, false);
        b.peer(c, true);
        c.peer(b, false);
        Await.until("links a-b and b-c up", WAIT, () -> a.up(b) && b.up(a) && b.up(c) && c.up(b));
        assertTrue(a.router.peer(c.id()).map(p -> p.state() != LinkState.UP).orElse(true), "a and c are not peered");

        // (1) the three replicas converge
        Await.until("equal version vectors on a, b, c", WAIT, () -> sameVersionVectors(a, b, c));
        // (2) c learns a's direct observation of b through b, since a and c have no link
        Await.until("c sees a's DIRECT observation of b", WAIT, () -> observes(c, a, b, Reachability.DIRECT));
        assertFalse(c.health.syncNeighbours().contains(a.id()), "c never synced with a directly");

        // (3) a drops its link to b: b records a DOWN, and c learns it through b
        assertTrue(a.router.removePeer(b.id()));
        Await.until("b sees a DOWN", WAIT, () -> observes(b, b, a, Reachability.DOWN));
        Await.until("c sees b's DOWN observation of a", WAIT, () -> observes(c, b, a, Reachability.DOWN));
        assertFalse(c.health.status(a.id()).orElseThrow().stopped(), "a is partitioned, not stopped");
        Await.until("a records its own side of the partition", WAIT, () -> observes(a, a, b, Reachability.DOWN)
                && a.health.syncNeighbours().isEmpty());

        // (4) a stops and restarts with the same data dir: its log continues where it left off
        a.close();
        long stoppedAt = a.seqOf(a);
        long conflictsBefore = b.conflicting() + c.conflicting();
        RealNode a2 = new RealNode("a");
        assertTrue(a2.health.startedWithState(), "a found its state file");
        assertEquals(OwnLogState.RECORDING, a2.health.ownLogState(), "so it records at once, before any link is up");
        assertEquals(a.identity.publicKeyBase64(), a2.identity.publicKeyBase64(), "same identity from the data dir");
        assertTrue(a2.seqOf(b) > 0 && a2.seqOf(c) > 0, "the replicated logs were reloaded from the data dir");
        a2.peer(b, true);
        Await.until("a's link to b is up again", WAIT, () -> a2.up(b) && b.up(a2));
        Await.until("a recording again", WAIT, () -> a2.health.ownLogState() == OwnLogState.RECORDING);
        Await.until("equal version vectors after the restart", WAIT, () -> sameVersionVectors(a2, b, c)
                && c.seqOf(a2) > stoppedAt);
        Await.until("c sees a's DIRECT observation of b again", WAIT, () -> observes(c, a2, b, Reachability.DIRECT));

        List<HealthEvent> timeline = new ArrayList<>(c.health.timeline(a2.id(), Instant.EPOCH, 10_000));
        timeline.sort(Comparator.comparingLong(HealthEvent::seq));
        for (int i = 0; i < timeline.size(); i++) {
            assertEquals(i + 1, timeline.get(i).seq(), "a's log as c holds it has no gap: " + timeline);
        }
        assertEquals(c.seqOf(a2), timeline.get(timeline.size() - 1).seq());
        assertEquals(2, timeline.stream().filter(e -> e.type() == HealthEventType.NODE_STARTED).count(), timeline.toString());
        HealthEvent restart = timeline.stream().filter(e -> e.type() == HealthEventType.NODE_STARTED).reduce((x, y) -> y)
                .orElseThrow();
        assertTrue(restart.seq() > stoppedAt, "the restart's events are numbered after the stop (" + stoppedAt + "): " + restart);
        assertTrue(timeline.stream().anyMatch(e -> e.type() == HealthEventType.NODE_STOPPED && e.seq() <= stoppedAt));
        assertEquals(0, conflictsBefore);
        assertEquals(0, b.conflicting() + c.conflicting(), "no conflicting events after the restart");
        assertEquals(0, a2.conflicting());
        assertFalse(c.health.status(a2.id()).orElseThrow().stopped());
    }

    @Test
    void aNodeThatLostItsStateCatchesUpPromptlyAlthoughItsNeighboursHandlerCameUpLate() throws Exception {
        RealNode a = new RealNode("a");
        RealNode b = new RealNode("b");
        a.peer(b, true);
        b.peer(a, false);
        Await.until("equal version vectors on a, b", WAIT, () -> sameVersionVectors(a, b));
        a.close();
        long stoppedAt = a.seqOf(a);
        Await.until("b learned a's stop", WAIT, () -> b.seqOf(a) == stoppedAt);
        java.nio.file.Files.delete(a.dataDir.resolve("health").resolve("state.bin"));

        // b's health handler is not registered while a comes back: the router drops a's first
        // catch-up (unknown topic, no ack asked). Anti-entropy is 30 s away; the rejoin timeout
        // is set far beyond the wait below, so only a repeated catch-up can end a's rejoin in time.
        b.router.removeHandler(b.handler);
        RealNode a2 = new RealNode("a", SYNC.withRejoinTimeout(Duration.ofSeconds(60)));
        assertFalse(a2.health.startedWithState());
        a2.peer(b, true);
        Await.until("a's link to b is up again", WAIT, () -> a2.up(b) && b.up(a2));
        assertEquals(OwnLogState.REJOINING, a2.health.ownLogState());
        Await.until("a shows its own link to b while it waits", WAIT, () -> observes(a2, a2, b, Reachability.DIRECT));
        // Without repeats a sends b at most 4 health messages here: a catch-up per link event
        // (link up, PEER_UP) and an answer to each of b's (at most 2). Five refusals mean the
        // catch-up repeats at its short backoff, and they keep coming until b answers.
        Await.until("b refused five health messages", WAIT,
                () -> b.router.counters().getOrDefault("refused.unknownTopic", 0L) >= 5);
        b.router.addHandler(b.handler, List.of(HealthNode.TOPIC));
        Await.until("a recording again", WAIT, () -> a2.health.ownLogState() == OwnLogState.RECORDING);
        // a's own repeat or b's (b asked a on PEER_UP, and a's answer to it was dropped too)
        assertTrue(a2.onHealthThreadGet(() -> a2.health.counters().get("catchup.retries"))
                + b.onHealthThreadGet(() -> b.health.counters().get("catchup.retries")) >= 1,
                () -> "a: " + a2.onHealthThreadGet(a2.health::counters) + " b: " + b.onHealthThreadGet(b.health::counters)
                        + " b's router: " + b.router.counters());
        Await.until("equal version vectors after the restart", WAIT, () -> sameVersionVectors(a2, b) && b.seqOf(a2) > stoppedAt);
        assertEquals(0, a2.conflicting() + b.conflicting(), "a numbered its new events after those b kept");
    }

    @Test
    void aLinkThatCameUpBeforeTheListenerWasRegisteredIsSyncedWithinTheCatchUpNotNever() throws Exception {
        // a's replica starts before its link is up, and its listener is registered only after the
        // link came up (DS registers it once the component is active): the PEER_UP reaches nobody
        RealNode a = new RealNode("a", SYNC, false);
        RealNode b = new RealNode("b");
        a.peer(b, true);
        b.peer(a, false);
        Await.until("link a-b up", WAIT, () -> a.up(b) && b.up(a));
        a.listen();
        a.onHealthThread(() -> a.health.onLifecycleEvent(new dev.meshwork.api.lifecycle.LifecycleEvent("gw1",
                dev.meshwork.api.lifecycle.LifecycleState.STARTING, dev.meshwork.api.lifecycle.LifecycleState.RUNNING, 1,
                Instant.now(), "ready")));
        // anti-entropy is 30 s away: only the reconciliation with the router can make b a neighbour
        Await.until("b learns a's later event", WAIT, () -> b.health.timeline(a.id(), Instant.EPOCH, 100).stream()
                .anyMatch(e -> e.type() == HealthEventType.GATEWAY_STATE));
        Await.until("each is the other's sync neighbour", WAIT, () -> a.health.syncNeighbours().contains(b.id())
                && b.health.syncNeighbours().contains(a.id()));
    }
}
