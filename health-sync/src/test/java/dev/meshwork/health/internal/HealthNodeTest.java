package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.health.NodeStatus;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.health.Reachability;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.health.internal.sync.OwnLogState;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.testkit.ManualTime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The health replica wired to an in-memory stand-in Router, driven by a manual clock. */
class HealthNodeTest {

    private static final SyncConfig CONFIG = SyncConfig.DEFAULTS.withAntiEntropyInterval(Duration.ofSeconds(5))
            .withRejoinTimeout(Duration.ofMillis(500));

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private final StandInMesh mesh = new StandInMesh(time, Duration.ofMillis(5));
    private final Map<String, HealthNode> nodes = new HashMap<>();
    private final Map<String, List<HealthEvent>> notified = new HashMap<>();
    /** Session ids, which also seed the catch-up jitter: the same timings on every run. */
    private final java.util.concurrent.atomic.AtomicLong sessions = new java.util.concurrent.atomic.AtomicLong(1000);

    private HealthNode start(String id) {
        StandInMesh.StandInRouter router = mesh.router(id);
        List<HealthEvent> seen = notified.computeIfAbsent(id, k -> new ArrayList<>());
        HealthNode node = new HealthNode(router, new StateStore(dir.resolve(id).resolve("health/state.bin")), CONFIG,
                time, time, Duration.ofSeconds(1), Duration.ofMinutes(5), seen::addAll, sessions::incrementAndGet);
        router.handler = node::onSyncMessage;
        router.peerListener = node::onPeerEvent;
        node.start();
        nodes.put(id, node);
        return node;
    }

    private static NodeId id(String s) {
        return NodeId.of(s);
    }

    private void lineOfThree() {
        start("a");
        start("b");
        start("c");
        mesh.link("a", "b");
        mesh.link("b", "c");
        time.advance(Duration.ofSeconds(2));
    }

    @Test
    void threeNodesConvergeAndEveryNodeSeesWhoSeesWhom() {
        lineOfThree();
        Map<NodeId, Long> vv = nodes.get("a").versionVector();
        assertEquals(3, vv.size());
        for (HealthNode n : nodes.values()) {
            assertEquals(vv, n.versionVector());
            assertEquals(OwnLogState.RECORDING, n.ownLogState());
        }
        // c has no link to a, yet sees a's observation of b (relayed through b's replica).
        List<Observation> atC = nodes.get("c").observations();
        assertTrue(atC.stream().anyMatch(o -> o.observer().equals(id("a")) && o.subject().equals(id("b"))
                && o.reachability() == Reachability.DIRECT), atC.toString());
        NodeStatus b = nodes.get("c").status(id("b")).orElseThrow();
        assertEquals(Reachability.DIRECT, b.best());
        assertEquals(2, b.seenBy().size());
        assertTrue(b.startedAt().isPresent());
        assertFalse(b.stopped());
        assertTrue(nodes.get("a").status(id("nobody")).isEmpty());
    }

    @Test
    void aPartitionIsVisibleAsDownObservationsOnBothSides() {
        lineOfThree();
        mesh.cut("a", "b");
        time.advance(Duration.ofSeconds(1));
        NodeStatus aSeenFromC = nodes.get("c").status(id("a")).orElseThrow();
        assertEquals(Reachability.DOWN, aSeenFromC.best());
        assertEquals(id("b"), aSeenFromC.seenBy().get(0).observer());
        // a still knows its own side: b's down, as a recorded it.
        assertTrue(nodes.get("a").observations().stream().anyMatch(o -> o.observer().equals(id("a"))
                && o.subject().equals(id("b")) && o.reachability() == Reachability.DOWN));
        mesh.link("a", "b");
        time.advance(Duration.ofSeconds(1));
        assertEquals(nodes.get("a").versionVector(), nodes.get("c").versionVector());
        assertEquals(Reachability.DIRECT, nodes.get("c").status(id("a")).orElseThrow().best());
    }

    @Test
    void aLocalChangeReachesANodeTwoHopsAwayWithinTwoPushWindows() {
        lineOfThree();
        long before = nodes.get("c").versionVector().get(id("a"));
        nodes.get("a").onLifecycleEvent(new LifecycleEvent("gw1", LifecycleState.STARTING, LifecycleState.RUNNING, 3,
                time.instant(), "ready"));
        time.advance(Duration.ofMillis(2 * 100 + 2 * 5 + 1));
        assertEquals(before + 1, nodes.get("c").versionVector().get(id("a")));
        HealthEvent gw = nodes.get("c").timeline(id("a"), Instant.EPOCH, 1).get(0);
        assertEquals(HealthEventType.GATEWAY_STATE, gw.type());
        assertEquals("RUNNING", gw.attributes().get("state"));
        assertTrue(notified.get("c").contains(gw), "c's listener learned of the replicated event");
    }

    @Test
    void anOrderlyStopIsPersistedAndSeenByPeersAndTheRestartContinuesTheLog() {
        lineOfThree();
        HealthNode a = nodes.get("a");
        a.stop();
        time.advance(Duration.ofMillis(50)); // the stop's push is delivered before the link closes
        long stoppedAt = a.versionVector().get(id("a"));
        mesh.cut("a", "b");
        time.advance(Duration.ofSeconds(1));
        assertTrue(nodes.get("c").status(id("a")).orElseThrow().stopped());
        assertEquals(stoppedAt, nodes.get("c").versionVector().get(id("a")));

        HealthNode again = start("a");
        time.advance(Duration.ofSeconds(1)); // no neighbour linked: rejoins by timeout
        assertEquals(OwnLogState.RECORDING, again.ownLogState());
        assertEquals(stoppedAt + 1, again.versionVector().get(id("a")), again.timeline(id("a"), Instant.EPOCH, 100) + " reloaded the log and numbered the start after it");
        assertTrue(again.versionVector().containsKey(id("c")), "the replicated logs were reloaded too");
        mesh.link("a", "b");
        time.advance(Duration.ofSeconds(1));
        assertEquals(again.versionVector(), nodes.get("c").versionVector());
        assertFalse(nodes.get("c").status(id("a")).orElseThrow().stopped());
    }

    @Test
    void aCorruptStateFileIsMovedAsideAndTheNodeRebuildsFromItsPeers() throws IOException {
        lineOfThree();
        HealthNode a = nodes.get("a");
        a.stop();
        time.advance(Duration.ofMillis(50));
        mesh.cut("a", "b");
        time.advance(Duration.ofSeconds(1));
        Path file = dir.resolve("a/health/state.bin");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(file, bytes);

        HealthNode again = start("a");
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("state.bin.corrupt-")));
        }
        assertEquals(OwnLogState.REJOINING, again.ownLogState());
        mesh.link("a", "b");
        time.advance(Duration.ofSeconds(1));
        assertEquals(OwnLogState.RECORDING, again.ownLogState());
        assertEquals(again.versionVector(), nodes.get("c").versionVector());
        // The new start was numbered after the events the peers kept: no sequence number reused.
        List<HealthEvent> timeline = again.timeline(id("a"), Instant.EPOCH, 1000);
        List<HealthEventType> types = timeline.stream().map(HealthEvent::type).toList();
        int stop = types.lastIndexOf(HealthEventType.NODE_STOPPED);
        assertTrue(stop > 0 && types.get(stop + 1) == HealthEventType.NODE_STARTED, types.toString());
        assertEquals(0L, again.counters().get("events.conflicting"));
        for (int i = 0; i < timeline.size(); i++) {
            assertEquals(i + 1, timeline.get(i).seq());
        }
    }

    @Test
    void uptimeCountsTheTimeSomeObserverSawTheNodeUp() {
        lineOfThree();
        time.advance(Duration.ofSeconds(58));
        mesh.cut("b", "c");
        time.advance(Duration.ofSeconds(60));
        double up = nodes.get("a").uptime(id("c"), Duration.ofSeconds(120));
        // c itself counts as up from its start; it never stopped, so the whole window is covered.
        assertEquals(1.0, up, 0.01);
        double bFromA = nodes.get("a").uptime(id("b"), Duration.ofSeconds(240));
        assertTrue(bFromA > 0.45 && bFromA < 0.55, "b started 120 s ago of a 240 s window: " + bFromA);
    }

    @Test
    void aCallbackArrivingAfterStopAndExecutorShutdownIsDroppedNotThrownAtTheRouter() throws Exception {
        StandInMesh.StandInRouter router = mesh.router("late");
        java.util.concurrent.ScheduledExecutorService executor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        HealthNode node = new HealthNode(router, new StateStore(dir.resolve("late/health/state.bin")), CONFIG, time,
                executor, Duration.ofSeconds(1), Duration.ofMinutes(5), e -> { });
        executor.submit(node::start).get(10, java.util.concurrent.TimeUnit.SECONDS);
        executor.submit(node::stop).get(10, java.util.concurrent.TimeUnit.SECONDS);
        executor.shutdown();
        long before = node.versionVector().get(id("late"));
        // before the fix these threw RejectedExecutionException into the Router's event dispatch
        node.onPeerEvent(new dev.meshwork.api.router.PeerEvent(dev.meshwork.api.router.PeerEvent.Type.PEER_DOWN,
                router.info(id("x")), time.instant(), "late"));
        node.onLifecycleEvent(new LifecycleEvent("gw1", LifecycleState.STARTING, LifecycleState.RUNNING, 1,
                time.instant(), "late"));
        assertTrue(executor.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(before, node.versionVector().get(id("late")), "nothing recorded after the stop");
    }

    /** Stops a, cuts it off, and lets the rest settle: a's restart comes next. */
    private long stopA() {
        HealthNode a = nodes.get("a");
        a.stop();
        time.advance(Duration.ofMillis(50));
        long stoppedAt = a.versionVector().get(id("a"));
        mesh.cut("a", "b");
        time.advance(Duration.ofSeconds(1));
        return stoppedAt;
    }

    @Test
    void aRestartWithItsStateFileRecordsAtOnceWithoutWaitingForNeighbours() {
        lineOfThree();
        long stoppedAt = stopA();
        mesh.link("a", "b"); // the router links before health starts, as in the launcher
        HealthNode again = start("a");
        // No time has passed: no neighbour could have answered yet.
        assertTrue(again.startedWithState());
        assertEquals(OwnLogState.RECORDING, again.ownLogState());
        assertEquals(stoppedAt + 2, again.versionVector().get(id("a")), "start and peer-up numbered at once");
        time.advance(Duration.ofMillis(2 * 100 + 4 * 5 + 1));
        assertEquals(again.versionVector(), nodes.get("c").versionVector(), "pushed within two push windows");
        assertEquals(0L, nodes.get("c").counters().get("events.conflicting"));
    }

    @Test
    void aRestartThatLostItsStateShowsItsOwnLinksAtOnceAndNumbersAfterWhatItsNeighbourKept() throws IOException {
        lineOfThree();
        long stoppedAt = stopA();
        Files.delete(dir.resolve("a/health/state.bin"));
        mesh.link("a", "b");
        HealthNode again = start("a");
        assertFalse(again.startedWithState());
        assertEquals(OwnLogState.REJOINING, again.ownLogState());
        assertFalse(again.versionVector().containsKey(id("a")), "nothing numbered yet");
        assertTrue(again.observations().stream().anyMatch(o -> o.observer().equals(id("a")) && o.subject().equals(id("b"))
                && o.reachability() == Reachability.DIRECT), "its own direct link shows at once: " + again.observations());
        assertEquals(HealthEventType.PEER_UP, again.timeline(id("a"), Instant.EPOCH, 10).get(1).type());
        time.advance(Duration.ofMillis(2 * 5 + 1)); // one exchange with b
        assertEquals(OwnLogState.RECORDING, again.ownLogState());
        assertEquals(stoppedAt + 2, again.versionVector().get(id("a")), "numbered after the events b kept");
        time.advance(Duration.ofSeconds(1));
        assertEquals(again.versionVector(), nodes.get("c").versionVector());
        for (HealthNode n : nodes.values()) {
            assertEquals(0L, n.counters().get("events.conflicting"));
        }
    }

    @Test
    void aFirstCatchUpLostToAnUnregisteredHandlerIsRepeatedWithinTheShortBackoffNotTheAntiEntropyInterval()
            throws IOException {
        lineOfThree();
        long stoppedAt = stopA();
        Files.delete(dir.resolve("a/health/state.bin"));
        // b's health handler is not registered when a's link comes up: the router drops a's messages.
        StandInMesh.StandInRouter bRouter = mesh.router("b");
        var bHandler = bRouter.handler;
        bRouter.handler = m -> { };
        mesh.link("a", "b");
        HealthNode again = start("a");
        time.advance(Duration.ofMillis(30)); // b's own catch-up to a was answered into the void
        bRouter.handler = bHandler; // registered now; no link event follows
        assertEquals(OwnLogState.REJOINING, again.ownLogState());
        time.advance(Duration.ofMillis(200 - 30 + 2 * 5 + 1)); // the first backoff step, and its round trip
        assertEquals(OwnLogState.RECORDING, again.ownLogState(), "caught up within 200 ms, not 5 s (anti-entropy here)");
        // whichever side's retry fires first repairs it (a asking again, or b asking a, whose answer
        // carries b's vector): the jitter decides, so count both
        assertTrue(again.counters().get("catchup.retries") + nodes.get("b").counters().get("catchup.retries") >= 1);
        assertEquals(stoppedAt + 2, again.versionVector().get(id("a")));
        time.advance(Duration.ofMillis(500));
        assertEquals(again.versionVector(), nodes.get("c").versionVector());
        assertEquals(0L, nodes.get("b").counters().get("events.conflicting"));
    }

    @Test
    void aPeerUpOfAnAlreadyLinkedNeighbourTriggersACatchUpAtOnce() {
        lineOfThree();
        StandInMesh.StandInRouter bRouter = mesh.router("b");
        var bHandler = bRouter.handler;
        bRouter.handler = m -> { }; // b's health handler goes away for a while (e.g. a bundle refresh)
        nodes.get("a").onLifecycleEvent(new LifecycleEvent("gw1", LifecycleState.STARTING, LifecycleState.RUNNING, 1,
                time.instant(), "ready"));
        time.advance(Duration.ofMillis(150)); // a's push is lost
        bRouter.handler = bHandler;
        long sentBefore = nodes.get("a").counters().get("sent.digest");
        mesh.router("a").peerEvent(dev.meshwork.api.router.PeerEvent.Type.PEER_UP, id("b"));
        time.advance(Duration.ofMillis(1));
        assertEquals(sentBefore + 1, nodes.get("a").counters().get("sent.digest"), "asked at once");
        time.advance(Duration.ofMillis(4 * 5 + 1));
        assertEquals(nodes.get("a").versionVector().get(id("a")), nodes.get("b").versionVector().get(id("a")),
                "the lost push repaired by the catch-up, not after the anti-entropy interval");
    }
}
