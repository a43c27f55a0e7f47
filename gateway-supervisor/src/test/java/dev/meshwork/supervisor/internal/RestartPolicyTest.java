package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.BackoffPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The governor and the restart scheduler on their own, with time as plain numbers. */
class RestartPolicyTest {

    private static final long S = 1_000_000_000L;

    @Test
    void governorAllowsRRestartsInTAndRefusesTheNext() {
        Governor g = new Governor(5, Duration.ofSeconds(60));
        for (int i = 0; i < 5; i++) {
            assertTrue(g.tryAcquire(i * S), "restart " + (i + 1));
        }
        assertFalse(g.tryAcquire(10 * S), "sixth restart within 60 s is refused");
        assertEquals(5, g.used(10 * S));
    }

    @Test
    void governorWindowSlidesSoOldRestartsStopCounting() {
        Governor g = new Governor(2, Duration.ofSeconds(60));
        assertTrue(g.tryAcquire(0));
        assertTrue(g.tryAcquire(30 * S));
        assertFalse(g.tryAcquire(59 * S));
        assertTrue(g.tryAcquire(60 * S), "the restart at 0 s left the window");
    }

    @Test
    void governorResetForgetsTheHistory() {
        Governor g = new Governor(1, Duration.ofSeconds(60));
        assertTrue(g.tryAcquire(0));
        assertFalse(g.tryAcquire(S));
        g.reset();
        assertTrue(g.tryAcquire(2 * S));
    }

    @Test
    void refusedAttemptsAreNotCounted() {
        Governor g = new Governor(1, Duration.ofSeconds(10));
        assertTrue(g.tryAcquire(0));
        for (int i = 1; i < 10; i++) {
            assertFalse(g.tryAcquire(i * S));
        }
        assertTrue(g.tryAcquire(10 * S), "refusals do not extend the lockout");
    }

    @Test
    void backoffDoublesFromOneSecondToTheThirtySecondCapWithFullJitter() {
        double[] r = {0.999999};
        RestartScheduler s = new RestartScheduler(SupervisorConfig.DEFAULT_BACKOFF, Duration.ofSeconds(60), () -> r[0]);
        long[] expectedCeilingsMs = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
        for (long ceiling : expectedCeilingsMs) {
            long d = s.next(0).toMillis();
            assertTrue(d <= ceiling && d >= ceiling - 1, "ceiling " + ceiling + " got " + d);
        }
        r[0] = 0.0;
        assertEquals(Duration.ZERO, s.next(0), "full jitter reaches down to zero");
    }

    @Test
    void backoffResetsAfterTheStableTime() {
        RestartScheduler s = new RestartScheduler(BackoffPolicy.fullJitter(Duration.ofSeconds(1), Duration.ofSeconds(30)),
                Duration.ofSeconds(60), () -> 0.5);
        s.next(-1);
        s.next(-1);
        assertEquals(Duration.ofSeconds(2), s.next(59 * S), "59 s up is not stable yet");
        assertEquals(Duration.ofMillis(500), s.next(60 * S), "60 s up: back to the base");
    }
}
