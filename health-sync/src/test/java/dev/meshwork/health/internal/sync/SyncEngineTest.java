package dev.meshwork.health.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.HealthDocument;
import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The sync protocol between two engines over a lossless port that records every message. */
class SyncEngineTest {

    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final SyncConfig CONFIG = SyncConfig.DEFAULTS.withRejoinTimeout(Duration.ofMillis(200))
            .withMaxEventsPerMessage(10);

    private final ManualTime time = new ManualTime();
    private final List<SyncMessage> wire = new ArrayList<>();
    private final List<Long> durable = new ArrayList<>();
    /** Messages to drop (by destination): a neighbour whose handler is not registered yet. */
    private final java.util.Set<NodeId> deaf = new java.util.HashSet<>();
    private SyncEngine a;
    private SyncEngine b;

    private SyncEngine engine(NodeId self, HealthDocument doc, SyncConfig config) {
        return engine(self, doc, config, SyncEngine.Start.STATE_LOST, durable::add);
    }

    private SyncEngine engine(NodeId self, HealthDocument doc, SyncConfig config, SyncEngine.Start start,
            SyncEngine.OwnLogStore store) {
        SyncEngine[] holder = new SyncEngine[1];
        holder[0] = new SyncEngine(self, doc, (to, payload) -> {
            try {
                wire.add(SyncCodec.decode(payload));
            } catch (SyncCodec.MalformedSyncException e) {
                throw new AssertionError(e);
            }
            SyncEngine target = to.equals(A) ? a : b;
            time.schedule(() -> {
                if (!deaf.contains(to)) {
                    target.onMessage(self, payload);
                }
            }, 1, java.util.concurrent.TimeUnit.MILLISECONDS);
        }, time, time, config, self.equals(A) ? 11 : 22, events -> { }, store, start);
        holder[0].start();
        return holder[0];
    }

    private void startBoth(HealthDocument da, HealthDocument db) {
        a = engine(A, da, CONFIG);
        b = engine(B, db, CONFIG);
        a.linkUp(B);
        b.linkUp(A);
    }

    private static HealthDocument withEvents(NodeId origin, int n) {
        HealthDocument d = new HealthDocument();
        for (int i = 1; i <= n; i++) {
            d.append(new HealthEvent(origin, i, java.time.Instant.parse("2026-01-01T00:00:00Z"), HealthEventType.RTT_SUMMARY,
                    Optional.of(NodeId.of("x")), Map.of("p50_ms", Integer.toString(i))));
        }
        return d;
    }

    @Test
    void aRoundEndsWhenDigestsMatchWithoutAnyCap() {
        startBoth(withEvents(A, 25), withEvents(B, 3));
        time.advance(Duration.ofSeconds(1));
        assertEquals(a.document(), b.document());
        assertTrue(a.openRounds().isEmpty() && b.openRounds().isEmpty());
        int messages = wire.size();
        // Another anti-entropy round on equal states: one digest each way, nothing more.
        a.antiEntropy();
        b.antiEntropy();
        time.advance(Duration.ofSeconds(1));
        assertEquals(messages + 2, wire.size());
        assertTrue(wire.subList(messages, wire.size()).stream().allMatch(m -> m.kind() == SyncMessage.Kind.DIGEST));
    }

    @Test
    void eachExchangeStrictlyShrinksTheDifferenceUntilItIsZero() {
        startBoth(withEvents(A, 95), new HealthDocument());
        time.advance(Duration.ofSeconds(1));
        assertEquals(a.document().versionVector(), b.document().versionVector());
        // 95 events at 10 per message: 10 messages of events, each carrying 10 new ones (the last 5).
        List<SyncMessage> carrying = wire.stream().filter(m -> m.eventCount() > 0).toList();
        assertEquals(10, carrying.size());
        assertEquals(95, carrying.stream().mapToInt(SyncMessage::eventCount).sum(), "no event sent twice");
    }

    @Test
    void localChangesWithinThePushWindowGoOutAsOnePush() {
        startBoth(new HealthDocument(), new HealthDocument());
        time.advance(Duration.ofSeconds(1));
        wire.clear();
        for (int i = 0; i < 5; i++) {
            a.record(HealthEventType.PEER_UP, Optional.of(B), Map.of("route", "direct"));
            time.advance(Duration.ofMillis(15));
        }
        time.advance(Duration.ofMillis(200));
        assertEquals(1, wire.size(), wire.toString());
        assertEquals(SyncMessage.Kind.PUSH, wire.get(0).kind());
        assertEquals(5, wire.get(0).eventCount());
        assertEquals(a.document(), b.document());
        assertEquals(5L, durable.get(durable.size() - 1), "own events made durable before they were pushed");
    }

    @Test
    void aPushThatArrivesAfterAGapIsAnsweredWithADigestAndTheGapIsFilled() {
        startBoth(new HealthDocument(), new HealthDocument());
        time.advance(Duration.ofSeconds(1));
        HealthDocument ahead = withEvents(NodeId.of("c"), 6);
        // b receives events 4..6 of c without 1..3 (an overtaken message).
        var delta = ahead.deltaFor(Map.of(NodeId.of("c"), 3L), 100);
        a.document().merge(ahead);
        wire.clear();
        b.onMessage(A, SyncCodec.encode(new SyncMessage(SyncMessage.Kind.PUSH, 0, Optional.empty(), delta.fragments(), false)));
        assertEquals(SyncMessage.Kind.DIGEST, wire.get(0).kind());
        time.advance(Duration.ofMillis(50));
        assertEquals(6L, b.document().version(NodeId.of("c")));
        assertEquals(1L, b.counters().get("received.gaps"));
    }

    @Test
    void aMalformedMessageIsCountedAndDropped() {
        startBoth(new HealthDocument(), new HealthDocument());
        time.advance(Duration.ofSeconds(1));
        int before = wire.size();
        b.onMessage(A, new byte[] {0x0a, (byte) 0xff, 0x01});
        b.onMessage(A, new byte[] {0x08, 0x07}); // a kind this version does not know
        assertEquals(2L, b.counters().get("received.malformed"));
        assertEquals(before, wire.size(), "no answer to garbage");
    }

    @Test
    void aStartingNodeHoldsItsOwnEventsUntilItsNeighbourToldItHowFarItsLogGot() {
        // b holds 4 events of a's earlier life; a starts with nothing (lost state file).
        a = engine(A, new HealthDocument(), CONFIG);
        b = engine(B, withEvents(A, 4), CONFIG);
        a.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of());
        assertEquals(OwnLogState.REJOINING, a.ownLogState());
        assertEquals(0L, a.document().version(A));
        a.linkUp(B);
        b.linkUp(A);
        time.advance(Duration.ofMillis(100));
        assertEquals(OwnLogState.RECORDING, a.ownLogState());
        assertEquals(5L, a.document().version(A), "the new start is numbered after the 4 the neighbour kept");
        time.advance(Duration.ofSeconds(1));
        assertEquals(a.document(), b.document());
    }

    @Test
    void anIsolatedStartingNodeRecordsAfterTheRejoinTimeout() {
        a = engine(A, new HealthDocument(), CONFIG);
        a.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of());
        time.advance(Duration.ofMillis(199));
        assertEquals(OwnLogState.REJOINING, a.ownLogState());
        time.advance(Duration.ofMillis(1));
        assertEquals(OwnLogState.RECORDING, a.ownLogState());
        assertEquals(1L, a.document().version(A));
    }

    @Test
    void compactionFoldsEventsOlderThanTheRetentionWindow() {
        SyncConfig cfg = CONFIG.withRetention(Duration.ofMinutes(10)).withCompactionInterval(Duration.ofMinutes(1));
        a = engine(A, new HealthDocument(), cfg);
        time.advance(Duration.ofSeconds(1));
        for (int i = 0; i < 30; i++) {
            a.record(HealthEventType.PEER_UP, Optional.of(B), Map.of("route", "direct"));
            time.advance(Duration.ofMinutes(1));
        }
        var snapshot = a.document().snapshot().get(A);
        assertEquals(30L, snapshot.version());
        assertTrue(snapshot.events().size() <= 11, "only the last 10 minutes are kept: " + snapshot.events().size());
        assertTrue(snapshot.summary().covered() >= 19);
        assertEquals(1, snapshot.summary().kept().size(), "one PEER_UP per subject survives in the summary");
    }

    @Test
    void aNodeWithItsStateFileNumbersItsEventsAtOnce() {
        a = engine(A, withEvents(A, 4), CONFIG, SyncEngine.Start.STATE_INTACT, durable::add);
        assertEquals(OwnLogState.RECORDING, a.ownLogState());
        a.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of());
        assertEquals(5L, a.document().version(A), "numbered without waiting for any neighbour");
        assertTrue(a.provisionalOwn().isEmpty());
    }

    @Test
    void aNodeThatLostItsStateWaitsAtMostTheRejoinTimeoutForASilentNeighbour() {
        a = engine(A, new HealthDocument(), CONFIG.withRejoinTimeout(Duration.ofSeconds(3)));
        b = engine(B, withEvents(A, 4), CONFIG);
        deaf.add(B); // b never hears a (its handler never comes up)
        a.linkUp(B);
        a.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of());
        assertEquals(1, a.provisionalOwn().size(), "held back, but shown provisionally");
        assertEquals(1L, a.provisionalOwn().get(0).seq());
        time.advance(Duration.ofMillis(2_999));
        assertEquals(OwnLogState.REJOINING, a.ownLogState());
        assertEquals(0L, a.document().version(A));
        time.advance(Duration.ofMillis(1));
        assertEquals(OwnLogState.RECORDING, a.ownLogState(), "bounded by the rejoin timeout (it used to be 20 of them)");
        assertEquals(1L, a.document().version(A));
        assertTrue(a.provisionalOwn().isEmpty());
    }

    @Test
    void aLostFirstCatchUpIsRepeatedWithinTheFirstBackoffStep() {
        // a restarts without state; b holds 4 of a's events but its handler is not registered
        // yet when a's link comes up: a's first catch-up is dropped.
        a = engine(A, new HealthDocument(), CONFIG.withRejoinTimeout(Duration.ofSeconds(3)));
        b = engine(B, withEvents(A, 4), CONFIG);
        deaf.add(B);
        a.linkUp(B);
        a.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of());
        time.advance(Duration.ofMillis(20));
        deaf.remove(B); // b's handler is registered now; no link event follows
        b.linkUp(A);
        deaf.add(A); // ... and b's own catch-up to a is lost too, so only a's retry can end this
        time.advance(Duration.ofMillis(5));
        deaf.remove(A);
        assertEquals(OwnLogState.REJOINING, a.ownLogState());
        long ceiling = CONFIG.catchUpBackoff().ceiling(0).toMillis(); // 200 ms
        time.advance(Duration.ofMillis(ceiling - 25 + 3)); // the retry, b's answer and its delivery
        assertEquals(OwnLogState.RECORDING, a.ownLogState(), "the retry came within the first backoff step");
        assertEquals(5L, a.document().version(A), "numbered after the 4 events b kept: no reuse");
        assertTrue(a.counters().get("catchup.retries") >= 1);
        time.advance(Duration.ofSeconds(1));
        assertEquals(a.document(), b.document());
        assertEquals(0L, b.counters().get("events.conflicting"));
    }

    @Test
    void aLostAnswerToTheCatchUpIsAskedAgain() {
        a = engine(A, new HealthDocument(), CONFIG.withRejoinTimeout(Duration.ofSeconds(3)));
        b = engine(B, withEvents(A, 4), CONFIG);
        a.linkUp(B);
        b.linkUp(A);
        deaf.add(A); // everything b sends in the first 100 ms is lost
        time.advance(Duration.ofMillis(100));
        deaf.remove(A);
        assertEquals(OwnLogState.REJOINING, a.ownLogState());
        time.advance(Duration.ofMillis(CONFIG.catchUpBackoff().ceiling(1).toMillis() + 5));
        assertEquals(OwnLogState.RECORDING, a.ownLogState());
        assertEquals(4L, a.document().version(A));
    }

    @Test
    void aCatchUpStopsOnceAnsweredAndAMarkedDigestIsAnsweredEvenWhenNothingDiffers() {
        HealthDocument same = withEvents(A, 3);
        a = engine(A, same.copy(), CONFIG, SyncEngine.Start.STATE_INTACT, durable::add);
        b = engine(B, same.copy(), CONFIG, SyncEngine.Start.STATE_INTACT, durable::add);
        deaf.add(B);
        a.linkUp(B); // lost
        time.advance(Duration.ofMillis(10));
        deaf.remove(B);
        b.linkUp(A); // b's catch-up reaches a: a covers it, and answers b although nothing differs
        time.advance(Duration.ofSeconds(10));
        assertTrue(a.openRounds().isEmpty() && b.openRounds().isEmpty());
        long retries = a.counters().get("catchup.retries") + b.counters().get("catchup.retries");
        int messages = wire.size();
        time.advance(Duration.ofSeconds(15)); // up to the anti-entropy interval (30 s): silence
        assertEquals(messages, wire.size(), "no retries once caught up: " + wire.subList(Math.max(0, messages - 4), messages));
        assertTrue(retries <= 1, "at most a's one retry for its lost first digest: " + retries);
    }

    @Test
    void aPeerUpOfALinkedNeighbourAsksItAtOnce() {
        startBoth(withEvents(A, 3), withEvents(B, 2));
        time.advance(Duration.ofSeconds(1));
        wire.clear();
        a.catchUp(B); // what HealthNode does on PEER_UP of a neighbour already linked
        assertEquals(1, wire.size());
        SyncMessage m = wire.get(0);
        assertEquals(SyncMessage.Kind.DIGEST, m.kind());
        assertTrue(m.answer() && m.request(), m.toString());
        time.advance(Duration.ofMillis(10));
        assertEquals(2, wire.size(), "b answered with its digest although nothing differs");
        time.advance(Duration.ofSeconds(5));
        assertEquals(2, wire.size(), "and the catch-up ended");
    }

    @Test
    void ownEventsThatCannotBePersistedAreNeitherSentNorAdvertised() {
        boolean[] diskFull = {true};
        a = engine(A, new HealthDocument(), CONFIG, SyncEngine.Start.STATE_INTACT, seq -> {
            if (diskFull[0]) {
                throw new IllegalStateException("disk full");
            }
            durable.add(seq);
        });
        b = engine(B, new HealthDocument(), CONFIG, SyncEngine.Start.STATE_INTACT, durable::add);
        a.linkUp(B);
        b.linkUp(A);
        time.advance(Duration.ofMillis(50));
        a.record(HealthEventType.PEER_UP, Optional.of(B), Map.of("route", "direct"));
        time.advance(Duration.ofMillis(500));
        a.antiEntropy();
        time.advance(Duration.ofMillis(50));
        assertEquals(1L, a.document().version(A), "kept locally");
        assertEquals(0L, b.document().version(A), "but not sent while not durable");
        assertTrue(wire.stream().noneMatch(m -> m.version().map(v -> v.containsKey(A)).orElse(false)),
                "nor admitted to in a version vector");
        assertTrue(a.counters().get("persist.withheld") >= 1);
        diskFull[0] = false;
        a.antiEntropy(); // the periodic digest retries the write; then the withheld events are pushed
        time.advance(Duration.ofMillis(200));
        assertEquals(1L, b.document().version(A));
        assertEquals(List.of(1L), durable);
    }
}
