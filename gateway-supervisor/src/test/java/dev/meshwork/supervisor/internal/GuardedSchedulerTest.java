package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The guard alone: a throw of any kind is counted and named, and periodic work keeps its schedule. */
class GuardedSchedulerTest {

    private final ManualTime time = new ManualTime();
    private final GuardedScheduler tasks = new GuardedScheduler(time, "gw");

    @Test
    void aPeriodicTaskThatThrowsKeepsItsSchedule() {
        AtomicInteger runs = new AtomicInteger();
        tasks.atFixedRate("beat", () -> {
            if (runs.incrementAndGet() % 2 == 1) {
                throw new IllegalStateException("odd beat");
            }
        }, Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(4));
        assertEquals(4, runs.get(), "every beat ran, those after a throw too");
        assertEquals(2, tasks.failures().count());
        assertEquals("beat: java.lang.IllegalStateException: odd beat", tasks.failures().last().orElseThrow());
        assertTrue(time.failures().isEmpty(), "nothing left in a future: " + time.failures());
    }

    @Test
    void anErrorInAOneShotTaskOrACallbackIsCountedAndTheOwnerHearsOfIt() {
        AtomicInteger heard = new AtomicInteger();
        tasks.onFailure(heard::incrementAndGet);
        tasks.schedule("timer", () -> {
            throw new NoClassDefFoundError("x/Y");
        }, Duration.ofMillis(10));
        tasks.execute("callback", () -> {
            throw new AssertionError("bug");
        });
        time.advance(Duration.ofMillis(10));
        assertEquals(2, tasks.failures().count());
        assertEquals(2, heard.get(), "the owner republishes after each failure");
        assertTrue(tasks.failures().last().orElseThrow().startsWith("timer: java.lang.NoClassDefFoundError"));
        assertTrue(time.failures().isEmpty());
    }

    @Test
    void aCallbackAfterShutdownIsDroppedNotThrown() {
        time.shutdown();
        AtomicInteger ran = new AtomicInteger();
        tasks.execute("late callback", ran::incrementAndGet);
        time.runDue();
        assertEquals(0, ran.get());
        assertEquals(0, tasks.failures().count(), "a shutdown is no failure");
    }
}
