package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.outbox.sqlite.internal.DrainAndInboxTest.RecordingHandler;
import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.ManualTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox's half of the lifecycle contract (docs/lifecycle.md), on a real SQLite file with
 * the clock and the scheduler in the test's hand: a configured peer is never "unknown", the
 * drain waits for a ready router, stopping never kills a row, a receiver crash is followed by a
 * redelivery, and no scheduled task dies silently.
 */
class LifecycleContractTest {

    static final NodeId A = DrainAndInboxTest.A;
    static final NodeId B = DrainAndInboxTest.B;
    static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final InMemoryMesh mesh = new InMemoryMesh();
    private final ManualTime time = new ManualTime(Instant.parse("2026-12-06T07:00:00Z"));
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
        time.shutdownNow();
        mesh.close();
    }

    private OutboxConfig config(String name, int maxAttempts) {
        // the ack timeout is far beyond anything the manual clock reaches here: no sweep interferes
        return new OutboxConfig(dir.resolve(name + ".db"), "NORMAL", 1 << 20, maxAttempts,
                BackoffPolicy.fullJitter(Duration.ofMillis(10), Duration.ofMillis(50)), 64, Duration.ofHours(1),
                Duration.ofSeconds(1), Duration.ofHours(24), Duration.ofDays(7), 0, 4096, true);
    }

    private OutboxService open(NodeId id, OutboxConfig config) {
        OutboxService s = new OutboxService(config, time, time::nanoTime, time, () -> 0.5);
        closeLater.add(s);
        mesh.register(id, "meshwork.outbox", s.inbox());
        s.setRouter(mesh.node(id));
        return s;
    }

    /** Runs due work and moves the manual clock on in small steps until {@code condition} holds. */
    private void drive(String description, BooleanSupplier condition) {
        Await.until(description, WAIT, () -> {
            time.advance(Duration.ofMillis(20));
            return condition.getAsBoolean();
        });
    }

    private static OutboxRequest message(String text) {
        return OutboxRequest.of(B, "orders", text.getBytes(StandardCharsets.UTF_8));
    }

    private static OutboxMessage row(OutboxService s, String id) {
        return s.get(id).orElseThrow();
    }

    @Test
    void onlyARefusalPermanentForTheMessageItselfKillsARow() {
        assertEquals(FailureVerdict.DEAD, FailureVerdict.of(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE, "big")));
        assertEquals(FailureVerdict.DEAD, FailureVerdict.of(new PermanentException(FailureCode.UNKNOWN_TOPIC, "no handler")));
        // the local router's "unknown": configuration applied late or changed
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new PermanentException(FailureCode.UNKNOWN_PEER, "peer beta was removed")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new RetryableException(FailureCode.UNKNOWN_PEER, "peer beta was removed")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new PermanentException(FailureCode.IDEMPOTENCY_CONFLICT, "in flight")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new PermanentException(FailureCode.UNTRUSTED, "key")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new RetryableException(FailureCode.UNKNOWN_TOPIC, "handler not yet")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new RetryableException(FailureCode.TIMEOUT, "no ack")));
        assertEquals(FailureVerdict.RETRY, FailureVerdict.of(new IllegalStateException("the router is stopped or restarting")));
        // stopping is not an attempt
        assertEquals(FailureVerdict.RELEASE, FailureVerdict.of(new RetryableException(FailureCode.SHUT_DOWN, "node stopping")));
        assertEquals(FailureVerdict.RELEASE, FailureVerdict.of(new PermanentException(FailureCode.SHUT_DOWN, "odd but not fatal")));
    }

    @Test
    void aPeerUnknownToTheLocalRouterIsRetriedUntilItsConfigurationArrives() {
        OutboxService a = open(A, config("a", 25));
        open(B, config("b", 25));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        // what the router said for a configured peer before its PeerComponent had run
        mesh.faults(B).failWith = id -> new PermanentException(FailureCode.UNKNOWN_PEER, "unknown peer b");
        String id = a.enqueue(message("x")).messageId();
        drive("three refused attempts", () -> row(a, id).attempts() >= 3);
        assertTrue(row(a, id).state() != OutboxState.DEAD, "retried, not dead: " + row(a, id));
        mesh.faults(B).failWith = null; // the peer's configuration is applied
        drive("delivered", () -> row(a, id).state() == OutboxState.DONE);
        assertEquals(1, handler.count("x"));
    }

    @Test
    void theDrainSendsNothingUntilTheRouterIsReady() {
        AtomicBoolean ready = new AtomicBoolean();
        mesh.readiness.put(A, ready::get);
        OutboxService a = open(A, config("a", 25));
        open(B, config("b", 25));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        String id = a.enqueue(message("x")).messageId();
        time.advance(Duration.ofSeconds(5));
        assertEquals(0, mesh.sends.get(), "no send before the router holds its configured peers");
        assertEquals(0, row(a, id).attempts());
        assertTrue(a.inboxCounters().get("drain.passesNotReady") > 0);
        ready.set(true);
        drive("delivered once the router is ready", () -> row(a, id).state() == OutboxState.DONE);
        assertEquals(1, handler.count("x"));
    }

    @Test
    void enqueueForATargetTheRouterDoesNotKnowIsRefusedOnlyOnceTheRouterIsReady() {
        AtomicBoolean ready = new AtomicBoolean();
        mesh.readiness.put(A, ready::get);
        OutboxService a = open(A, config("a", 25));
        NodeId notYetAdded = NodeId.of("late");
        String id = a.enqueue(OutboxRequest.of(notYetAdded, "orders", new byte[1])).messageId();
        assertEquals(OutboxState.PENDING, row(a, id).state(), "stored durably while the configuration is applied");
        ready.set(true);
        PermanentException refused = assertThrows(PermanentException.class,
                () -> a.enqueue(OutboxRequest.of(NodeId.of("nobody"), "orders", new byte[1])));
        assertEquals(FailureCode.UNKNOWN_PEER, refused.code());
    }

    @Test
    void aPeerRemovedBecauseTheNodeStopsGivesItsRowsBackWithoutCountingTheAttempt() {
        OutboxService a = open(A, config("a", 1)); // at the cap after one counted attempt
        open(B, config("b", 1));
        mesh.register(B, "orders", new RecordingHandler());
        mesh.faults(B).hold = true;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(a.enqueue(message("m" + i)).messageId());
        }
        drive("all in flight", () -> mesh.faults(B).held.size() == 5);
        AtomicBoolean ready = new AtomicBoolean(true);
        mesh.readiness.put(A, ready::get);
        ready.set(false); // the router is going down: no new claims muddle the count
        for (CompletableFuture<DeliveryResult> f : mesh.faults(B).held) {
            f.completeExceptionally(new RetryableException(FailureCode.SHUT_DOWN, "node stopping: peer b was removed"));
        }
        drive("back to pending", () -> ids.stream().allMatch(id -> row(a, id).state() == OutboxState.PENDING));
        time.advance(Duration.ofSeconds(2));
        for (String id : ids) {
            assertEquals(OutboxState.PENDING, row(a, id).state(), id);
            assertEquals(0, row(a, id).attempts(), "a stop is not an attempt: " + row(a, id));
        }
    }

    @Test
    void aPeerRemovedByConfigurationWhileRunningRetriesItsRowsByTheRetryPolicy() {
        OutboxService a = open(A, config("a", 3));
        open(B, config("b", 3));
        mesh.register(B, "orders", new RecordingHandler());
        mesh.faults(B).hold = true;
        String id = a.enqueue(message("x")).messageId();
        drive("in flight", () -> mesh.faults(B).held.size() == 1);
        mesh.faults(B).hold = false;
        mesh.faults(B).failWith = m -> new RetryableException(FailureCode.UNKNOWN_PEER, "unknown peer b");
        // the router before this fix: a removed peer failed its held sends as permanent
        mesh.faults(B).held.get(0).completeExceptionally(new PermanentException(FailureCode.UNKNOWN_PEER, "peer b was removed"));
        drive("dead by its retry policy only", () -> row(a, id).state() == OutboxState.DEAD);
        assertEquals(3, row(a, id).attempts(), "the cap, not the first refusal, ended it");
    }

    @Test
    void stoppingWithRowsInFlightLeavesThemForTheNextStartWhateverTheLateOutcomes() {
        OutboxConfig config = config("a", 25);
        OutboxService a = open(A, config);
        open(B, config("b", 25));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        mesh.faults(B).hold = true;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(a.enqueue(message("m" + i)).messageId());
        }
        drive("all in flight", () -> mesh.faults(B).held.size() == 10);
        List<CompletableFuture<DeliveryResult>> held = List.copyOf(mesh.faults(B).held);
        mesh.faults(B).held.clear();
        Thread stopper = new Thread(a::close, "stopper");
        stopper.start();
        // outcomes racing the stop, and arriving after it: none may mark a row
        for (int i = 0; i < held.size(); i++) {
            held.get(i).completeExceptionally(i % 2 == 0
                    ? new RetryableException(FailureCode.SHUT_DOWN, "router stopped")
                    : new PermanentException(FailureCode.UNKNOWN_PEER, "peer b was removed"));
        }
        Await.until("stopped", WAIT, () -> !stopper.isAlive());

        mesh.faults(B).hold = false;
        OutboxService again = open(A, config);
        for (String id : ids) {
            OutboxMessage m = row(again, id);
            assertTrue(m.state() == OutboxState.PENDING || m.state() == OutboxState.INFLIGHT || m.state() == OutboxState.DONE,
                    "never dead: " + m);
        }
        drive("all delivered after the restart", () -> ids.stream().allMatch(id -> row(again, id).state() == OutboxState.DONE));
        for (int i = 0; i < 10; i++) {
            assertEquals(1, handler.count("m" + i), "m" + i);
        }
    }

    @Test
    void afterAReceiverCrashAMessageWhoseHandlerMayNotHaveRunIsDeliveredAgainByDefault() {
        OutboxConfig defaults = OutboxConfig.defaults(dir.resolve("b.db"));
        assertTrue(defaults.redeliverInDoubt(), "at-least-once by default");
        OutboxService a = open(A, config("a", 25));
        OutboxService b = open(B, defaults);
        RecordingHandler stuck = new RecordingHandler();
        stuck.gate = new CompletableFuture<>();
        mesh.register(B, "orders", stuck);
        String id = a.enqueue(message("x")).messageId();
        drive("the handler is running", () -> stuck.calls.get() == 1);
        b.close(); // the receiver dies inside the handler: its inbox record stays in doubt

        mesh.unregister(B, "meshwork.outbox");
        mesh.unregister(B, "orders");
        OutboxService b2 = open(B, defaults);
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        assertEquals(1L, b2.inboxCounters().get("inbox.inDoubt"));
        stuck.gate.completeExceptionally(new IllegalStateException("died with its process")); // a's attempt fails
        drive("delivered again after the crash", () -> row(a, id).state() == OutboxState.DONE);
        assertEquals(1, handler.count("x"), "the restarted receiver's handler got it");
    }

    @Test
    void aScheduledDrainPassThatThrowsIsLoggedCountedAndTheDrainKeepsRunning() {
        AtomicBoolean blowUp = new AtomicBoolean(true);
        mesh.readiness.put(A, () -> {
            if (blowUp.getAndSet(false)) {
                throw new IllegalStateException("injected failure inside a scheduled pass");
            }
            return true;
        });
        OutboxService a = open(A, config("a", 25));
        open(B, config("b", 25));
        RecordingHandler handler = new RecordingHandler();
        mesh.register(B, "orders", handler);
        time.runDue(); // the first pass throws
        assertEquals(1L, a.inboxCounters().get("tasks.failed"));
        String id = a.enqueue(message("x")).messageId();
        drive("delivered by the same drain", () -> row(a, id).state() == OutboxState.DONE);
        assertEquals(1, handler.count("x"));
    }

    @Test
    void guardedPeriodicTaskSurvivesItsOwnFailure() {
        java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
        time.scheduleAtFixedRate(GuardedTask.of("test", failures, () -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("first run fails");
            }
        }), 1, 1, TimeUnit.SECONDS);
        time.advance(Duration.ofSeconds(3));
        assertEquals(3, runs.get(), "kept running after the failure");
        assertEquals(1, failures.get());
        assertTrue(time.failures().isEmpty(), "nothing escaped to the scheduler");
    }
}
