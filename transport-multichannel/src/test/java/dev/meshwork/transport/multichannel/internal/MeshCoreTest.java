package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class MeshCoreTest {

    private final TestMesh mesh = new TestMesh();

    private TestMesh.Node a;
    private TestMesh.Node b;

    /** A dials B on B's two URLs; B trusts A's key through its trusted set. */
    private void twoNodes(UnaryOperator<RouterSettings> tweak) {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(tweak, b.url(1), b.url(2));
        a.start(tweak);
        a.addPeer(b, b.url(1), b.url(2));
        mesh.advanceMillis(600);
    }

    private CompletableFuture<DeliveryResult> send(TestMesh.Node from, TestMesh.Node to, String text) {
        return from.core.send(to.id(), TestMesh.TOPIC, text.getBytes(), SendOptions.DEFAULT);
    }

    private static MeshworkException failure(CompletableFuture<?> f) {
        assertTrue(f.isCompletedExceptionally(), "expected a failure");
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return assertInstanceOf(MeshworkException.class, e.getCause());
        }
    }

    private ChannelInfo active(TestMesh.Node from, TestMesh.Node to) {
        return from.peer(to).activeChannel().orElseThrow();
    }

    @Test
    void authenticatesBothWaysAndDeliversWithAck() {
        twoNodes(UnaryOperator.identity());
        PeerInfo info = a.peer(b);
        assertEquals(LinkState.UP, info.state());
        assertEquals(b.identity.incarnation(), info.incarnation().orElseThrow());
        assertEquals(2, info.channels().stream().filter(c -> c.state() == ChannelState.OPEN).count(),
                "active plus one hot standby");
        CompletableFuture<DeliveryResult> f = send(a, b, "hello");
        mesh.settle();
        DeliveryResult r = f.join();
        assertTrue(r.acknowledged());
        assertEquals(Route.Kind.DIRECT, r.route().kind());
        assertEquals(List.of("hello"), b.payloads());
        assertEquals(a.id(), b.received.get(0).source());
    }

    @Test
    void refusesPeerWhoseKeyIsNotTrustedBeforeRoutingAnything() {
        a = mesh.node("a");
        b = mesh.node("b");
        TestMesh.Node mallory = mesh.node("mallory");
        b.start(s -> s.withTrustedKeys(java.util.Set.of()), b.url(1));
        a.start(UnaryOperator.identity());
        // A pins a key for b that is not b's: a man in the middle, or a misconfiguration
        a.core.addPeer(new dev.meshwork.api.router.PeerConfig(b.id(), "b", List.of(b.url(1)),
                Optional.of(mallory.identity.publicKeyBase64())));
        mesh.advanceMillis(600);
        PeerInfo info = a.peer(b);
        assertNotEquals(LinkState.UP, info.state());
        // a refuses b's key after message 2, before it shows b anything of its own
        assertTrue(a.counter("refused.keyMismatch") >= 1, a.core.counters().toString());
        assertEquals(0, b.counter("handshakesOk"), b.core.counters().toString());
        assertEquals(0, b.counter("delivered"));
        ChannelInfo ch = info.channels().get(0);
        assertEquals(ChannelState.BACKOFF, ch.state(), "a refused key is retried with the regular backoff");
        assertTrue(ch.lastError().orElseThrow().contains("not the key configured"), ch.lastError().toString());
        // never parked: even after many refusals the next attempt is at most the backoff cap away
        mesh.advanceMillis(600_000);
        int dials = mesh.net.dialLog.size();
        ChannelInfo later = a.peer(b).channels().get(0);
        assertEquals(ChannelState.BACKOFF, later.state());
        assertFalse(later.nextAttemptAt().orElseThrow().isAfter(mesh.time.instant().plusSeconds(30)),
                later.nextAttemptAt().toString());
        mesh.advanceMillis(31_000);
        assertTrue(mesh.net.dialLog.size() > dials, "retried within the backoff cap");
        assertEquals(0, b.counter("delivered"));
    }

    @Test
    void refusesAnUnknownDialerRetryablyAndLinksUpOnItsNextAttemptOnceItIsConfigured() {
        a = mesh.node("a");
        b = mesh.node("b");
        // b listens before its peer configuration arrived: it knows nobody yet
        b.start(s -> s.withTrustedKeys(java.util.Set.of()), b.url(1));
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        mesh.advanceMillis(100);
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertEquals(ChannelState.BACKOFF, ch.state());
        assertEquals(1, b.counter("refused.unknownKey"), b.core.counters().toString());
        assertTrue(ch.lastError().orElseThrow().startsWith("UNKNOWN_PEER"), ch.lastError().toString());
        mesh.advanceMillis(20_000);
        assertTrue(mesh.net.dialLog.size() >= 6, "retried at the normal pace: " + mesh.net.dialLog.size());
        assertEquals(ChannelState.BACKOFF, a.peer(b).channels().get(0).state(), "never parked as FAILED");
        // b's configuration of a arrives; b's own dial goes nowhere (a does not listen)
        b.addPeer(a, a.url(9));
        java.time.Instant next = a.peer(b).channels().get(0).nextAttemptAt().orElseThrow();
        mesh.time.advance(Duration.between(mesh.time.instant(), next).plusMillis(20));
        assertEquals(LinkState.UP, a.peer(b).state(), "up on a's next regular attempt");
        assertEquals(LinkState.UP, b.peer(a).state());
    }

    @Test
    void trustedKeysChangeLiveClosingLinksNoLongerTrustedAndLettingThemBackOnceTrustedAgain() {
        twoNodes(UnaryOperator.identity());
        RouterSettings trusting = b.core.settings();
        b.core.updateSettings(trusting.withTrustedKeys(java.util.Set.of()));
        mesh.advanceMillis(2_000);
        assertNotEquals(LinkState.UP, a.peer(b).state());
        assertTrue(b.counter("refused.unknownKey") >= 1, b.core.counters().toString());
        assertTrue(a.peer(b).channels().stream().noneMatch(c -> c.state() == ChannelState.FAILED),
                "not parked: " + a.peer(b).channels());
        b.core.updateSettings(trusting);
        mesh.advanceMillis(31_000); // at most one capped backoff
        assertEquals(LinkState.UP, a.peer(b).state());
        assertEquals(2, b.counter("settingsUpdates"));
    }

    @Test
    void reconfiguringARefusedPeerResetsItsBackoffAndDialsAtOnce() {
        a = mesh.node("a");
        b = mesh.node("b");
        TestMesh.Node mallory = mesh.node("mallory");
        b.start(UnaryOperator.identity(), b.url(1));
        a.start(UnaryOperator.identity());
        a.core.addPeer(new dev.meshwork.api.router.PeerConfig(b.id(), "b", List.of(b.url(1)),
                Optional.of(mallory.identity.publicKeyBase64())));
        mesh.advanceMillis(20_000);
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertTrue(a.counter("refused.keyMismatch") >= 3, a.core.counters().toString());
        assertTrue(ch.nextAttemptAt().orElseThrow().isAfter(mesh.time.instant().plusSeconds(1)),
                "backed off far by now: " + ch.nextAttemptAt());
        int dials = mesh.net.dialLog.size();
        a.addPeer(b, b.url(1)); // the key is corrected
        assertEquals(dials + 1, mesh.net.dialLog.size(), "dialed at once");
        mesh.settle();
        assertEquals(LinkState.UP, a.peer(b).state());
        assertEquals(1, a.counter("retriesOnReconfiguration"));
    }

    @Test
    void failsOverToStandbyWhenActiveChannelGoesSilent() {
        twoNodes(UnaryOperator.identity());
        mesh.advanceMillis(2000); // learn the heartbeat distribution
        URI before = active(a, b).uri();
        mesh.net.dialed(before).forEach(MemoryNetwork.End::blackhole);
        long start = mesh.time.nanoTime();
        CompletableFuture<DeliveryResult> f = send(a, b, "during black hole");
        long detectedAt = -1;
        for (int i = 0; i < 200 && detectedAt < 0; i++) {
            mesh.advanceMillis(5);
            if (!active(a, b).uri().equals(before)) {
                detectedAt = mesh.time.nanoTime();
            }
        }
        assertTrue(detectedAt > 0, "no failover within 1 s");
        long ms = (detectedAt - start) / 1_000_000;
        assertTrue(ms < 1000, "failover took " + ms + " ms");
        mesh.settle();
        assertTrue(f.join().acknowledged());
        assertEquals(List.of("during black hole"), b.payloads());
        assertEquals(1, a.counter("failovers"));
    }

    @Test
    void doesNotFailOverOnAHealthyLinkWithJitteryLatency() {
        twoNodes(UnaryOperator.identity());
        URI before = active(a, b).uri();
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < 600; i++) {
            // latency wanders between 0 and 150 ms (a starved CPU delays pongs)
            mesh.net.delay(b.url(1), Duration.ofMillis(rnd.nextInt(150)));
            mesh.net.delay(b.url(2), Duration.ofMillis(rnd.nextInt(150)));
            mesh.advanceMillis(50);
        }
        assertEquals(0, a.counter("stale"), a.core.counters() + " " + a.peer(b));
        assertEquals(0, a.counter("failovers"));
    }

    @Test
    void failsOverAtOnceOnResetAndResendsUnackedWithoutDuplicates() {
        twoNodes(UnaryOperator.identity());
        URI before = active(a, b).uri();
        // delay the channel so the envelope is in flight when it dies
        mesh.net.delay(before, Duration.ofMillis(50));
        CompletableFuture<DeliveryResult> f1 = send(a, b, "m1");
        CompletableFuture<DeliveryResult> f2 = send(a, b, "m2");
        mesh.advanceMillis(60); // delivered to b, acks still on the way back
        mesh.net.dialed(before).forEach(MemoryNetwork.End::reset);
        mesh.time.runDue();
        assertNotEquals(before, active(a, b).uri(), "failover on the reset itself, no timer");
        mesh.advanceMillis(200);
        assertTrue(f1.join().acknowledged());
        assertTrue(f2.join().acknowledged());
        assertEquals(List.of("m1", "m2"), b.payloads(), "re-sent messages are delivered once, in order");
        assertTrue(b.counter("duplicatesDropped") >= 1, "the re-sends reached b and were dropped");
    }

    @Test
    void switchesToAFasterChannelOnlyAfterSeveralClearlyBetterSamples() {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(UnaryOperator.identity(), b.url(1), b.url(2));
        a.start(UnaryOperator.identity());
        mesh.net.delay(b.url(1), Duration.ofMillis(10));
        mesh.net.delay(b.url(2), Duration.ofMillis(8)); // 0.8x: not enough
        a.addPeer(b, b.url(1), b.url(2));
        mesh.advanceMillis(20_000);
        assertEquals(b.url(1), active(a, b).uri(), "8 ms vs 10 ms is within the hysteresis band");
        mesh.net.delay(b.url(2), Duration.ofMillis(3)); // now 0.3x
        mesh.advanceMillis(2_500);
        assertEquals(b.url(1), active(a, b).uri(), "not after two samples");
        mesh.advanceMillis(10_000);
        assertEquals(b.url(2), active(a, b).uri(), "switched after several samples");
        assertEquals(1, a.counter("routeSwitches"));
    }

    @Test
    void neverSwitchesChannelWhileWorkIsInFlight() {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(UnaryOperator.identity(), b.url(1), b.url(2));
        a.start(UnaryOperator.identity());
        mesh.net.delay(b.url(1), Duration.ofMillis(10));
        mesh.net.delay(b.url(2), Duration.ofMillis(10));
        a.addPeer(b, b.url(1), b.url(2));
        mesh.advanceMillis(5_000);
        URI before = active(a, b).uri();
        URI other = before.equals(b.url(1)) ? b.url(2) : b.url(1);
        WorkToken work = a.core.beginWork(b.id());
        mesh.net.delay(other, Duration.ofMillis(1));
        mesh.advanceMillis(20_000);
        assertEquals(before, active(a, b).uri(), "work in flight pins the channel");
        work.close();
        mesh.advanceMillis(2_000);
        assertEquals(other, active(a, b).uri());
    }

    @Test
    void reconnectsWithExponentialBackoffAndFullJitter() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity());
        mesh.random = 0.5;
        a.addPeer(b, b.url(1)); // nobody listens: refused
        mesh.time.runDue();
        long[] expectedMs = {250, 500, 1000, 2000, 4000};
        for (long ms : expectedMs) {
            int dials = mesh.net.dialLog.size();
            mesh.advanceMillis(ms - 1);
            assertEquals(dials, mesh.net.dialLog.size(), "too early before " + ms + " ms");
            mesh.advanceMillis(1);
            assertEquals(dials + 1, mesh.net.dialLog.size(), "redial after " + ms + " ms (half the ceiling)");
        }
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertEquals(ChannelState.BACKOFF, ch.state());
        assertTrue(ch.lastError().orElseThrow().contains("CONNECTION_REFUSED"));
        // random 0 makes full jitter retry at once; the ceiling is capped at 30 s
        assertEquals(Duration.ZERO, RouterSettings.DEFAULTS.backoff().delay(3, 0.0));
        assertEquals(Duration.ofSeconds(30), RouterSettings.DEFAULTS.backoff().ceiling(20));
    }

    @Test
    void aReturningTransportRedialsBackedOffChannelsAtOnceAndGetsItsListensBack() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity());
        dev.meshwork.api.transport.Transport own = mesh.net.transport();
        a.core.addTransport(own, List.of("mem"));
        a.core.listen(a.url(1)).join();
        a.addPeer(b, b.url(1)); // nobody listens at b yet: refused, again and again
        mesh.advanceMillis(10_000);
        assertEquals(ChannelState.BACKOFF, a.peer(b).channels().get(0).state());
        // the transport goes (its bundle stops): the listens made with it are handed back
        assertEquals(List.of(a.url(1)), a.core.removeTransport(own));
        assertTrue(a.core.listenUris().isEmpty(), "a gone transport's listener is not reported");
        b.start(UnaryOperator.identity(), b.url(1));
        int dials = mesh.net.dialLog.size();
        a.core.addTransport(mesh.net.transport(), List.of("mem")); // it comes back
        mesh.settle(); // 1 ms: far less than the 8 s the backoff had reached
        assertTrue(mesh.net.dialLog.size() > dials, "dialed at once");
        assertEquals(LinkState.UP, a.peer(b).state());
        assertEquals(1, a.counter("retriesOnNewTransport"));
    }

    @Test
    void backoffResetsAfterASuccessfulHello() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        mesh.advanceMillis(10_000); // several failures: backoff has grown
        assertTrue(a.peer(b).channels().get(0).failures() >= 4);
        b.start(UnaryOperator.identity(), b.url(1));
        mesh.advanceMillis(20_000);
        assertEquals(LinkState.UP, a.peer(b).state());
        assertEquals(0, a.peer(b).channels().get(0).failures());
        mesh.net.dialed(b.url(1)).forEach(MemoryNetwork.End::reset);
        mesh.time.runDue();
        int dials = mesh.net.dialLog.size();
        mesh.advanceMillis(250);
        assertEquals(dials + 1, mesh.net.dialLog.size(), "first retry after a reset uses the base delay again");
    }

    @Test
    void clockJumpResetsBackoffOfReconnectingChannels() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        mesh.advanceMillis(40_000); // backoff near its cap
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertEquals(ChannelState.BACKOFF, ch.state());
        b.start(UnaryOperator.identity(), b.url(1));
        mesh.time.jumpWallClock(Duration.ofHours(2)); // the laptop slept
        mesh.advanceMillis(400);
        assertEquals(1, a.counter("clockJumps"));
        assertEquals(LinkState.UP, a.peer(b).state(), "redialed right after the wake, not after the long backoff");
    }

    @Test
    void restartedPeerGetsFreshStateAndLateFramesOfTheOldIncarnationAreDropped() {
        twoNodes(UnaryOperator.identity());
        String oldIncarnation = b.identity.incarnation();
        // a frame of the old incarnation still travelling on a slow channel
        send(a, b, "before");
        mesh.settle();
        b.restart(b.url(1), b.url(2));
        mesh.advanceMillis(1_000); // a redials after b's SHUTDOWN goodbye at the normal backoff
        PeerInfo info = a.peer(b);
        assertEquals(LinkState.UP, info.state());
        assertNotEquals(oldIncarnation, info.incarnation().orElseThrow());
        assertTrue(a.events.stream().anyMatch(e -> e.type() == PeerEvent.Type.PEER_RESTARTED));
        // b's replacement rejects an envelope that carries a's stale incarnation
        assertTrue(a.peer(b).counters().getOrDefault("restarts", 0L) >= 1);
    }

    @Test
    void dropsEnvelopesOfAnOlderIncarnation() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("m1").setSourceIncarnation("not-the-current-one"));
        mesh.settle();
        assertEquals(0, raw.target.received.size());
        assertEquals(1, raw.target.counter("dropped.oldIncarnation"));
    }

    @Test
    void racesUrlsHappyEyeballsWith250msStagger() {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(UnaryOperator.identity(), b.url(2));
        a.start(UnaryOperator.identity());
        mesh.net.hangDials(b.url(1)); // the first URL black-holes the SYN
        a.addPeer(b, b.url(1), b.url(2));
        mesh.time.runDue();
        assertEquals(List.of(b.url(1)), mesh.net.dialLog);
        mesh.advanceMillis(249);
        assertEquals(1, mesh.net.dialLog.size());
        mesh.advanceMillis(1);
        assertEquals(List.of(b.url(1), b.url(2)), mesh.net.dialLog);
        mesh.advanceMillis(10);
        assertEquals(b.url(2), active(a, b).uri(), "the first to finish the hello wins");
    }

    @Test
    void marksChannelFailedAfterIdenticalPermanentFailuresAndRetriesSlowly() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity());
        mesh.net.failDials(b.url(1), new PermanentException(FailureCode.UPGRADE_REFUSED, "404"));
        a.addPeer(b, b.url(1));
        mesh.advanceMillis(5_000);
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertEquals(ChannelState.FAILED, ch.state());
        assertEquals(3, mesh.net.dialLog.size());
        java.time.Instant next = ch.nextAttemptAt().orElseThrow();
        assertTrue(next.isAfter(mesh.time.instant().plusSeconds(50)) && next.isBefore(mesh.time.instant().plusSeconds(60)), next.toString());
        mesh.advanceMillis(50_000);
        assertEquals(3, mesh.net.dialLog.size(), "retried only slowly");
        mesh.advanceMillis(15_000);
        assertEquals(4, mesh.net.dialLog.size());
    }

    @Test
    void detectsAConnectionToItselfAndDoesNotRetry() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(UnaryOperator.identity(), a.url(1));
        a.addPeer(b, a.url(1)); // misconfigured: b's URL is a's own
        mesh.advanceMillis(120_000);
        ChannelInfo ch = a.peer(b).channels().get(0);
        assertEquals(ChannelState.CLOSED, ch.state());
        assertEquals(1, mesh.net.dialLog.size());
        assertTrue(a.counter("refused.selfConnection") >= 1);
    }

    @Test
    void relaysThroughANeighbourWhenThereIsNoDirectLink() {
        a = mesh.node("a");
        b = mesh.node("b");
        TestMesh.Node c = mesh.node("c");
        c.start(UnaryOperator.identity(), c.url(1));
        b.start(UnaryOperator.identity(), b.url(1));
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        b.addPeer(c, c.url(1));
        mesh.advanceMillis(1000);
        CompletableFuture<DeliveryResult> f = a.core.send(c.id(), TestMesh.TOPIC, "via b".getBytes(), SendOptions.DEFAULT);
        mesh.settle();
        DeliveryResult r = f.join();
        assertTrue(r.acknowledged());
        assertEquals(Route.relay(b.id()), r.route());
        assertEquals(List.of("via b"), c.payloads());
        assertEquals(Optional.of(b.id()), c.received.get(0).relayedBy());
        assertEquals(1, b.counter("relayed"));
        assertEquals(Route.relay(b.id()), a.core.peer(c.id()).orElseThrow().route());
        // a copy relayed twice (a re-send) reaches c's handler once
        assertEquals(1, c.received.size());
    }

    @Test
    void peerListenersHearARelayRouteAppearChangeAndDisappear() {
        a = mesh.node("a");
        b = mesh.node("b");
        TestMesh.Node c = mesh.node("c");
        c.start(UnaryOperator.identity(), c.url(1));
        b.start(UnaryOperator.identity(), b.url(1));
        a.start(UnaryOperator.identity(), a.url(1));
        a.addPeer(c, c.url(9)); // nothing listens there: c is reachable only through b
        a.addPeer(b, b.url(1));
        b.addPeer(c, c.url(1));
        mesh.advanceMillis(1000);
        List<PeerEvent> aboutC = a.events.stream().filter(e -> e.peer().node().equals(c.id())).toList();
        assertEquals(List.of(PeerEvent.Type.PEER_UP), aboutC.stream().map(PeerEvent::type).toList(), aboutC.toString());
        assertEquals(Route.relay(b.id()), aboutC.get(0).peer().route());
        a.events.clear();
        // b drops c: a has no route left to c
        b.core.removePeer(c.id());
        mesh.settle();
        assertEquals(List.of(PeerEvent.Type.PEER_DOWN), a.events.stream().filter(e -> e.peer().node().equals(c.id()))
                .map(PeerEvent::type).toList());
        assertEquals(Route.UNREACHABLE, a.peer(c).route());
    }

    @Test
    void losingTheDirectLinkWhileARelayRemainsIsARouteChangeNotPeerDown() {
        a = mesh.node("a");
        b = mesh.node("b");
        TestMesh.Node c = mesh.node("c");
        c.start(UnaryOperator.identity(), c.url(1), c.url(2));
        b.start(UnaryOperator.identity(), b.url(1));
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        b.addPeer(c, c.url(1));
        a.addPeer(c, c.url(2));
        mesh.advanceMillis(1000);
        assertEquals(Route.Kind.DIRECT, a.peer(c).route().kind());
        a.events.clear();
        mesh.net.dialed(c.url(2)).forEach(MemoryNetwork.End::reset);
        mesh.settle();
        List<PeerEvent.Type> types = a.events.stream().filter(e -> e.peer().node().equals(c.id()))
                .map(PeerEvent::type).toList();
        assertEquals(List.of(PeerEvent.Type.CHANNEL_DOWN, PeerEvent.Type.ROUTE_CHANGED), types);
        assertEquals(Route.relay(b.id()), a.peer(c).route());
        a.events.clear();
        mesh.advanceMillis(1000); // a redials c
        assertEquals(List.of(PeerEvent.Type.CHANNEL_UP, PeerEvent.Type.ACTIVE_CHANNEL_CHANGED, PeerEvent.Type.ROUTE_CHANGED),
                a.events.stream().filter(e -> e.peer().node().equals(c.id())).map(PeerEvent::type).toList());
        assertEquals(Route.Kind.DIRECT, a.peer(c).route().kind());
    }

    @Test
    void failsMessagesThatCannotBeQueuedOrExpireNeverSilently() {
        a = mesh.node("a");
        b = mesh.node("b");
        a.start(s -> s.withQueueLimit(2));
        a.addPeer(b, b.url(1)); // unreachable
        CompletableFuture<DeliveryResult> f1 = a.core.send(b.id(), TestMesh.TOPIC, new byte[1],
                SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(2)));
        CompletableFuture<DeliveryResult> f2 = send(a, b, "x");
        CompletableFuture<DeliveryResult> f3 = send(a, b, "y");
        mesh.time.runDue();
        assertEquals(FailureCode.QUEUE_FULL, failure(f3).code());
        mesh.advanceMillis(2_001);
        assertEquals(FailureCode.EXPIRED, failure(f1).code());
        assertFalse(f2.isDone());
        assertEquals(1, a.peer(b).queueDepth());
        assertEquals(FailureCode.UNKNOWN_PEER, failure(a.core.send(dev.meshwork.api.NodeId.of("nobody"),
                TestMesh.TOPIC, new byte[0], SendOptions.DEFAULT)).code());
        a.core.removePeer(b.id());
        mesh.time.runDue();
        assertEquals(FailureCode.UNKNOWN_PEER, failure(f2).code());
    }

    @Test
    void handlerFailureIsReportedToTheSenderAndDoesNotStallTheLink() {
        twoNodes(UnaryOperator.identity());
        b.core.addHandler(m -> {
            throw new IllegalStateException("boom");
        }, List.of("broken"));
        CompletableFuture<DeliveryResult> bad = a.core.send(b.id(), "broken", new byte[0], SendOptions.DEFAULT);
        CompletableFuture<DeliveryResult> good = send(a, b, "after");
        mesh.settle();
        assertEquals(FailureCode.HANDLER_FAILED, failure(bad).code());
        assertTrue(good.join().acknowledged());
    }
    @Test
    void acknowledgesOnlyWhenTheHandlersStageCompletes() {
        twoNodes(UnaryOperator.identity());
        CompletableFuture<Void> work = new CompletableFuture<>();
        b.core.addHandler(m -> work, List.of("slow"));
        CompletableFuture<DeliveryResult> f = a.core.send(b.id(), "slow", new byte[0], SendOptions.DEFAULT);
        mesh.settle();
        assertFalse(f.isDone(), "no ack while the handler is still working");
        work.complete(null);
        mesh.settle();
        assertTrue(f.join().acknowledged());
    }

    @Test
    void unknownTopicAtTheReceiverFailsTheSendPermanently() {
        twoNodes(UnaryOperator.identity());
        CompletableFuture<DeliveryResult> f = a.core.send(b.id(), "nobody.listens", new byte[0], SendOptions.DEFAULT);
        mesh.settle();
        MeshworkException e = failure(f);
        assertEquals(FailureCode.UNKNOWN_TOPIC, e.code());
        assertInstanceOf(PermanentException.class, e);
    }

    @Test
    void deliverLocallyRunsTheHandlersOrFailsWithUnknownTopic() {
        a = mesh.node("a");
        a.start(UnaryOperator.identity());
        var msg = new dev.meshwork.api.router.InboundMessage("id-1", dev.meshwork.api.NodeId.of("x"), TestMesh.TOPIC,
                "local".getBytes(), java.util.Map.of(), Optional.empty(), mesh.time.instant());
        CompletableFuture<Void> ok = a.core.deliverLocally(msg);
        mesh.settle();
        assertTrue(ok.isDone() && !ok.isCompletedExceptionally());
        assertEquals(List.of("local"), a.payloads());
        var other = new dev.meshwork.api.router.InboundMessage("id-2", dev.meshwork.api.NodeId.of("x"), "none",
                new byte[0], java.util.Map.of(), Optional.empty(), mesh.time.instant());
        assertEquals(FailureCode.UNKNOWN_TOPIC, failure(a.core.deliverLocally(other)).code());
    }

    @Test
    void peerListenersHearUpChannelAndFailoverEventsInOrder() {
        twoNodes(UnaryOperator.identity());
        List<PeerEvent.Type> types = a.events.stream().map(PeerEvent::type).toList();
        assertEquals(List.of(PeerEvent.Type.CHANNEL_UP, PeerEvent.Type.ACTIVE_CHANNEL_CHANGED, PeerEvent.Type.PEER_UP,
                PeerEvent.Type.CHANNEL_UP), types);
        a.events.clear();
        mesh.net.dialed(active(a, b).uri()).forEach(MemoryNetwork.End::reset);
        mesh.settle();
        assertEquals(List.of(PeerEvent.Type.CHANNEL_DOWN, PeerEvent.Type.ACTIVE_CHANNEL_CHANGED),
                a.events.stream().map(PeerEvent::type).limit(2).toList());
    }
    @Test
    void probesUnusedUrlsSlowlyAndMovesToABetterRoute() {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(UnaryOperator.identity(), b.url(1), b.url(2), b.url(3));
        a.start(UnaryOperator.identity());
        mesh.net.delay(b.url(1), Duration.ofMillis(10));
        mesh.net.delay(b.url(2), Duration.ofMillis(10));
        mesh.net.delay(b.url(3), Duration.ofMillis(1));
        a.addPeer(b, b.url(1), b.url(2), b.url(3));
        mesh.advanceMillis(5_000);
        assertEquals(ChannelState.IDLE, a.peer(b).channels().get(2).state(), "only active plus one standby at first");
        mesh.advanceMillis(35_000); // probe at 30 s, RTT samples, switch, surplus closed ~7 s later
        assertEquals(b.url(3), active(a, b).uri(), "the probe found the faster URL");
        assertEquals(2, a.peer(b).channels().stream().filter(c -> c.state() == ChannelState.OPEN).count(),
                "the surplus standby was closed again");
        assertTrue(a.counter("routeProbes") >= 1);
    }
    @Test
    void doesNotFlapBetweenChannelsWhoseRttsDifferBySubMillisecondNoise() {
        a = mesh.node("a");
        b = mesh.node("b");
        b.start(UnaryOperator.identity(), b.url(1), b.url(2));
        a.start(UnaryOperator.identity());
        mesh.net.delay(b.url(1), Duration.ofNanos(400_000));
        a.addPeer(b, b.url(1), b.url(2));
        mesh.advanceMillis(20_000); // url 1 won the dial race; url 2 answers 0.8 ms faster, i.e. 0x
        assertEquals(b.url(1), active(a, b).uri());
        assertEquals(2, a.peer(b).channels().stream().filter(c -> c.state() == ChannelState.OPEN).count());
        assertEquals(0, a.counter("routeSwitches"));
    }
}
