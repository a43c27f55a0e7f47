package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.ManualTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drain and the inbox end to end: a sending outbox on node a, receiving outboxes on b and c,
 * connected by {@link InMemoryMesh} (a stand-in for the real Router). The fallback poll is set
 * to an hour, so every delivery here proves the drain was woken by an event.
 */
class DrainAndInboxTest {

    static final NodeId A = NodeId.of("a");
    static final NodeId B = NodeId.of("b");
    static final NodeId C = NodeId.of("c");
    static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final InMemoryMesh mesh = new InMemoryMesh();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    /** Counts successful deliveries per payload; can fail or hold calls. */
    static final class RecordingHandler implements MessageHandler {
        final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger failNext = new AtomicInteger();
        volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

        @Override
        public CompletionStage<Void> onMessage(InboundMessage m) {
            calls.incrementAndGet();
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return CompletableFuture.failedFuture(new IllegalStateException("handler broke"));
            }
            return gate.thenRun(() -> seen.computeIfAbsent(new String(m.payload(), StandardCharsets.UTF_8), k -> new AtomicInteger()).incrementAndGet());
        }

        int count(String payload) {
            AtomicInteger n = seen.get(payload);
            return n == null ? 0 : n.get();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
        scheduler.shutdownNow();
        mesh.close();
    }

    private OutboxConfig config(String name, int window, BackoffPolicy backoff, int maxAttempts, boolean redeliverInDoubt) {
        return new OutboxConfig(dir.resolve(name + ".db"), "NORMAL", 1 << 20, maxAttempts, backoff, window, Duration.ofSeconds(5),
                Duration.ofHours(1), Duration.ofHours(24), Duration.ofDays(7), 0, 4096, redeliverInDoubt);
    }

    private OutboxService node(NodeId id, OutboxConfig config, InstantSource clock) {
        OutboxService s = new OutboxService(config, clock, System::nanoTime, scheduler, () -> 0.5);
        closeLater.add(s);
        mesh.register(id, "meshwork.outbox", s.inbox());
        s.setRouter(mesh.node(id));
        return s;
    }

    private OutboxService node(NodeId id) {
        return node(id, config(id.value(), 64, BackoffPolicy.fullJitter(Duration.ofMillis(10), Duration.ofMillis(50)), 25, false),
                InstantSource.system());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void awaitState(OutboxService s, String id, OutboxState state) {
        Await.until(id + " becomes " + state, WAIT, () -> s.get(id).map(OutboxMessage::state).orElse(null) == state);
    }

    @Test
    void deliversEveryMessageOnceToTheReceiversHandlerAndMarksItDone() {
        OutboxService a = node(A);
        node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        for (int i = 0; i < 300; i++) {
            a.enqueue(OutboxRequest.of(B, "orders", bytes("m" + i)));
        }
        Await.until("all done", WAIT, () -> a.stats().count(OutboxState.DONE) == 300);
        for (int i = 0; i < 300; i++) {
            assertEquals(1, handler.count("m" + i), "m" + i);
        }
        assertEquals(300, handler.calls.get());
    }

    @Test
    void slowTargetFillsOnlyItsOwnWindowAndDoesNotBlockOthers() {
        OutboxService a = node(A, config("a", 8, BackoffPolicy.DEFAULT, 25, false), InstantSource.system());
        node(B);
        node(C);
        RecordingHandler atB = new RecordingHandler();
        mesh.register(B, "orders", atB);
        mesh.register(C, "orders", new RecordingHandler());
        mesh.faults(C).hold = true;
        for (int i = 0; i < 50; i++) {
            a.enqueue(OutboxRequest.of(C, "orders", bytes("c" + i)));
            a.enqueue(OutboxRequest.of(B, "orders", bytes("b" + i)));
        }
        Await.until("b received all and acknowledged", WAIT, () -> atB.seen.size() == 50 && a.stats().count(OutboxState.DONE) == 50);
        assertEquals(8, a.drainer().inflight(C), "c holds exactly its window");
        assertEquals(8, mesh.faults(C).held.size());
        assertEquals(8L, a.stats().count(OutboxState.INFLIGHT));
        assertEquals(42L, a.stats().count(OutboxState.PENDING));
    }

    @Test
    void retryableFailureIsRetriedWithBackoffThenDeliveredOnce() {
        OutboxService a = node(A);
        node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).failNext.set(2);
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        awaitState(a, id, OutboxState.DONE);
        assertEquals(3, a.get(id).orElseThrow().attempts());
        assertEquals(1, handler.count("x"));
    }

    @Test
    void refusalPermanentForTheMessageItselfMakesTheRowDeadWithItsLastError() {
        OutboxService a = node(A);
        node(B);
        mesh.faults(B).failWith = id -> new PermanentException(FailureCode.PAYLOAD_TOO_LARGE, "the peer takes at most 1 KiB");
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        awaitState(a, id, OutboxState.DEAD);
        OutboxMessage m = a.get(id).orElseThrow();
        assertEquals(1, m.attempts());
        assertTrue(m.lastError().orElseThrow().contains("PAYLOAD_TOO_LARGE"), m.lastError().toString());
    }

    @Test
    void retryableFailuresUpToTheAttemptCapMakeTheRowDead() {
        OutboxService a = node(A, config("a", 64, BackoffPolicy.fullJitter(Duration.ofMillis(1), Duration.ofMillis(5)), 3, false),
                InstantSource.system());
        node(B);
        mesh.faults(B).failWith = id -> new RetryableException(FailureCode.UNREACHABLE_PEER, "down");
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        awaitState(a, id, OutboxState.DEAD);
        OutboxMessage m = a.get(id).orElseThrow();
        assertEquals(3, m.attempts());
        assertTrue(m.lastError().orElseThrow().contains("UNREACHABLE_PEER"));
        assertEquals(3L, mesh.sends.get());
    }

    @Test
    void lostAckIsResentAndTheReceiverAcknowledgesTheDuplicateWithoutDeliveringIt() {
        OutboxService a = node(A);
        OutboxService b = node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).loseAcks.set(1);
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        awaitState(a, id, OutboxState.DONE);
        assertEquals(2, a.get(id).orElseThrow().attempts());
        assertEquals(1, handler.count("x"));
        assertEquals(1, handler.calls.get());
        assertEquals(1L, b.inboxCounters().get("inbox.duplicates"));
    }

    @Test
    void duplicatedDeliveriesReachTheHandlerOnce() {
        OutboxService a = node(A);
        node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).duplicate = true;
        for (int i = 0; i < 100; i++) {
            a.enqueue(OutboxRequest.of(B, "orders", bytes("m" + i)));
        }
        Await.until("all done", WAIT, () -> a.stats().count(OutboxState.DONE) == 100);
        assertEquals(100, handler.calls.get());
        handler.seen.forEach((k, v) -> assertEquals(1, v.get(), k));
    }

    @Test
    void peerComingUpMakesRowsWaitingOutABackoffDueAtOnce() {
        OutboxService a = node(A, config("a", 64, BackoffPolicy.fullJitter(Duration.ofHours(1), Duration.ofHours(1)), 25, false),
                InstantSource.system());
        node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).failNext.set(1);
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        Await.until("first attempt failed", WAIT, () -> a.get(id).orElseThrow().lastError().isPresent()
                && a.get(id).orElseThrow().state() == OutboxState.PENDING);
        assertTrue(a.get(id).orElseThrow().nextAttemptAt().orElseThrow().isAfter(Instant.now().plus(Duration.ofMinutes(10))));
        a.onPeerEvent(new PeerEvent(PeerEvent.Type.PEER_UP, InMemoryMesh.info(B, LinkState.UP), Instant.now(), "test"));
        awaitState(a, id, OutboxState.DONE);
        assertEquals(1, handler.count("x"));
    }

    @Test
    void failedHandlerIsNotRecordedSoTheResendIsDeliveredOnce() {
        OutboxService a = node(A);
        OutboxService b = node(B);
        RecordingHandler handler = new RecordingHandler();
        handler.failNext.set(1);
        mesh.register(B, "orders", handler);
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        awaitState(a, id, OutboxState.DONE);
        assertEquals(2, handler.calls.get());
        assertEquals(1, handler.count("x"));
        assertEquals(1L, b.inboxCounters().get("inbox.failed"));
    }

    @Test
    void inboxWritesAreGroupCommitted() {
        OutboxService a = node(A, config("a", 512, BackoffPolicy.DEFAULT, 25, false), InstantSource.system());
        OutboxService b = node(B);
        mesh.register(B, "orders", new RecordingHandler());
        List<CompletableFuture<?>> fs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            fs.add(a.enqueueAsync(OutboxRequest.of(B, "orders", bytes("m" + i))));
        }
        CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).join();
        Await.until("all done", WAIT, () -> a.stats().count(OutboxState.DONE) == 2000);
        long commits = b.writer().commits();
        assertTrue(commits < 1000, "2000 inbox records (plus delivered marks) took " + commits + " commits");
    }

    private static InboundMessage delivery(String id, String topic, String payload) {
        byte[] body = DeliveryCodec.encode(id, "a", "b", topic, bytes(payload));
        return new InboundMessage(id, A, "meshwork.outbox", body, Map.of(), Optional.empty(), Instant.now());
    }

    @Test
    void concurrentCopiesOfOneMessageReachTheHandlerOnceAndBothAreAcknowledgedAfterIt() throws Exception {
        OutboxService b = node(B);
        RecordingHandler handler = new RecordingHandler();
        handler.gate = new CompletableFuture<>();
        mesh.register(B, "orders", handler);
        CompletableFuture<Void> first = b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture();
        Await.until("handler called", WAIT, () -> handler.calls.get() == 1);
        CompletableFuture<Void> second = b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture();
        assertTrue(!first.isDone() && !second.isDone(), "no ack before the handler finished");
        handler.gate.complete(null);
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        assertEquals(1, handler.calls.get());
        assertEquals(1, handler.count("x"));
    }

    @Test
    void inboxForgetsIdsAfterTheRetentionWindow() throws Exception {
        ManualTime clock = new ManualTime(Instant.now());
        OutboxService b = node(B, config("b", 64, BackoffPolicy.DEFAULT, 25, false), clock);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(1, handler.count("x"));
        clock.jumpWallClock(Duration.ofDays(6));
        assertEquals(0, b.inbox().prune());
        clock.jumpWallClock(Duration.ofDays(2));
        assertEquals(1, b.inbox().prune());
        b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(2, handler.count("x"), "outside the window the id is new again");
    }

    @Test
    void malformedDeliveryIsRefusedAsAProtocolViolation() {
        OutboxService b = node(B);
        InboundMessage junk = new InboundMessage("e-9", A, "meshwork.outbox", new byte[] {(byte) 0xff, 1, 2}, Map.of(),
                Optional.empty(), Instant.now());
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> b.inbox().onMessage(junk).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(FailureCode.PROTOCOL_VIOLATION, ((PermanentException) e.getCause()).code());
    }

    private void leaveARecordInDoubt(String name) throws Exception {
        OutboxService b = node(B, config(name, 64, BackoffPolicy.DEFAULT, 25, false), InstantSource.system());
        RecordingHandler stuck = new RecordingHandler();
        stuck.gate = new CompletableFuture<>();
        mesh.register(B, "stuck", stuck);
        b.inbox().onMessage(delivery("e-1", "stuck", "x"));
        Await.until("handler running", WAIT, () -> stuck.calls.get() == 1);
        b.close(); // the handler never finished: as if the receiver had died in it
    }

    @Test
    void afterAReceiverCrashARecordInDoubtIsNotDeliveredAgainWhenRedeliveryIsTurnedOff() throws Exception {
        leaveARecordInDoubt("b1");
        OutboxService b = new OutboxService(config("b1", 64, BackoffPolicy.DEFAULT, 25, false), InstantSource.system(), System::nanoTime,
                scheduler, () -> 0.5);
        closeLater.add(b);
        b.setRouter(mesh.node(B));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        assertEquals(1L, b.inboxCounters().get("inbox.inDoubt"));
        b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(0, handler.calls.get());
    }

    @Test
    void afterAReceiverCrashARecordInDoubtIsDeliveredAgainWhenConfiguredForAtLeastOnce() throws Exception {
        leaveARecordInDoubt("b2");
        OutboxService b = new OutboxService(config("b2", 64, BackoffPolicy.DEFAULT, 25, true), InstantSource.system(), System::nanoTime,
                scheduler, () -> 0.5);
        closeLater.add(b);
        b.setRouter(mesh.node(B));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        b.inbox().onMessage(delivery("e-1", "orders", "x")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(1, handler.count("x"));
    }

    @Test
    void sendTheRouterNeverCompletesIsFailedAfterTwiceTheAckTimeoutAndRetried() {
        OutboxService a = node(A, config("a", 64, BackoffPolicy.fullJitter(Duration.ofMillis(10), Duration.ofMillis(50)), 25, false)
                .withAckTimeout(Duration.ofMillis(200)), InstantSource.system());
        node(B);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).hold = true;
        String id = a.enqueue(OutboxRequest.of(B, "orders", bytes("x"))).messageId();
        Await.until("the stuck attempt timed out", WAIT,
                () -> a.get(id).orElseThrow().lastError().map(e -> e.contains("TIMEOUT")).orElse(false));
        mesh.faults(B).hold = false;
        awaitState(a, id, OutboxState.DONE);
        assertEquals(1, handler.count("x"));
    }
}
