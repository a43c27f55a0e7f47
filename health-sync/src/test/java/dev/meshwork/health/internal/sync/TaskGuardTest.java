package dev.meshwork.health.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.HealthDocument;
import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Scheduled work in health sync survives a task that throws: logged, counted, schedule kept. */
class TaskGuardTest {

    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final SyncConfig CONFIG = SyncConfig.DEFAULTS.withAntiEntropyInterval(Duration.ofSeconds(10));

    private final ManualTime time = new ManualTime();

    /** The manual clock, except that the next read after {@link #failNextRead} throws. */
    private static final class FailingClock implements InstantSource {
        private final InstantSource delegate;
        private boolean failNext;

        FailingClock(InstantSource delegate) {
            this.delegate = delegate;
        }

        void failNextRead() {
            failNext = true;
        }

        @Override
        public Instant instant() {
            if (failNext) {
                failNext = false;
                throw new IllegalStateException("the clock failed once (injected)");
            }
            return delegate.instant();
        }
    }

    @Test
    void periodicAntiEntropyKeepsRunningAfterOneTickThrows() {
        FailingClock clockA = new FailingClock(time);
        SyncEngine[] engines = new SyncEngine[2];
        SyncEngine.Port[] ports = new SyncEngine.Port[2];
        for (int i = 0; i < 2; i++) {
            NodeId self = i == 0 ? A : B;
            int other = 1 - i;
            ports[i] = (to, payload) -> time.schedule(() -> engines[other].onMessage(self, payload), 1, TimeUnit.MILLISECONDS);
            engines[i] = new SyncEngine(self, new HealthDocument(), ports[i], i == 0 ? clockA : time, time, CONFIG,
                    10 + i, events -> { }, seq -> { }, SyncEngine.Start.STATE_INTACT);
            engines[i].start();
        }
        SyncEngine a = engines[0];
        a.linkUp(B);
        engines[1].linkUp(A);
        time.advance(Duration.ofSeconds(1)); // caught up: from now on only anti-entropy sends digests
        assertTrue(a.openRounds().isEmpty());
        long digests = a.counters().get("sent.digest");

        clockA.failNextRead(); // a's next anti-entropy tick throws before it sends
        time.advance(CONFIG.antiEntropyInterval());
        assertEquals(digests, a.counters().get("sent.digest"), "the failing tick sent nothing");
        assertEquals(1L, a.counters().get("tasks.failed"), "the failure is counted");

        time.advance(CONFIG.antiEntropyInterval().multipliedBy(3));
        assertEquals(digests + 3, a.counters().get("sent.digest"), "one digest per interval after the failure");
        assertEquals(List.of(), time.failures(), "nothing reached the scheduler");
    }

    @Test
    void aGuardedOneShotTaskThatThrowsIsCountedAndTheNextRuns() {
        TaskGuard guard = new TaskGuard(time);
        AtomicInteger runs = new AtomicInteger();
        guard.schedule("boom", () -> {
            throw new IllegalStateException("boom");
        }, Duration.ofMillis(10));
        guard.schedule("next", runs::incrementAndGet, Duration.ofMillis(20));
        guard.execute("now", runs::incrementAndGet);
        time.advance(Duration.ofMillis(30));
        assertEquals(2, runs.get());
        assertEquals(1, guard.failures());
        assertEquals(List.of(), time.failures());
    }
}
