package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LivenessWheelTest {

    private static final long MS = 1_000_000L;

    private final ManualTime time = new ManualTime();
    private final LivenessWheel wheel = new LivenessWheel(time, time::nanoTime, 100 * MS, 500 * MS);

    /** A member whose reads the test controls and which records pings and the stale call. */
    private final class FakeLink implements LivenessWheel.Member {
        long lastRead = time.nanoTime();
        final List<Long> pings = new ArrayList<>();
        final List<Long> staleCalls = new ArrayList<>();
        long staleAt = -1;

        @Override
        public long lastReadNanos() {
            return lastRead;
        }

        @Override
        public void ping(long nowNanos) {
            pings.add(nowNanos);
        }

        @Override
        public void stale(long silentNanos) {
            staleCalls.add(silentNanos);
            staleAt = time.nanoTime();
        }

        void read() {
            lastRead = time.nanoTime();
        }
    }

    @Test
    void tickIsAQuarterOfTheShorterOfIntervalAndThreshold() {
        assertEquals(25 * MS, wheel.tickNanos());
        assertEquals(MS, LivenessWheel.tickFor(2 * MS, 10 * MS), "at least 1 ms");
    }

    @Test
    void pingsOncePerIntervalWhileTheLinkAnswers() {
        FakeLink link = new FakeLink();
        wheel.add(link);
        for (int i = 0; i < 10; i++) {
            time.advance(Duration.ofMillis(100));
            link.read();
        }
        assertEquals(10, link.pings.size());
        for (int i = 0; i < link.pings.size(); i++) {
            assertEquals((i + 1) * 100 * MS, link.pings.get(i), "ping " + i + " at its interval, no drift");
        }
        assertTrue(link.staleCalls.isEmpty());
    }

    @Test
    void closesASilentLinkWithinThresholdPlusOneTickAndOnlyOnce() {
        FakeLink link = new FakeLink();
        wheel.add(link);
        time.advance(Duration.ofSeconds(2));
        assertEquals(1, link.staleCalls.size(), "told once, then removed");
        assertTrue(link.staleCalls.get(0) >= 500 * MS);
        assertTrue(link.staleAt <= 525 * MS, "detected at " + link.staleAt / MS + " ms");
        assertEquals(0, wheel.size());
        assertEquals(0, time.pendingTasks(), "an empty wheel stops ticking");
    }

    @Test
    void anyReadKeepsABusyLinkAliveEvenWhenItsPongsNeverCome() {
        FakeLink busy = new FakeLink();
        FakeLink silent = new FakeLink();
        wheel.add(busy);
        wheel.add(silent);
        for (int i = 0; i < 40; i++) {
            time.advance(Duration.ofMillis(50));
            busy.read();
        }
        assertTrue(busy.staleCalls.isEmpty(), "data frames count as life");
        assertEquals(1, silent.staleCalls.size());
        assertEquals(1, wheel.size());
    }

    @Test
    void removedMemberIsNeitherPingedNorClosedAndLastRemovalStopsTheTick() {
        FakeLink link = new FakeLink();
        LivenessWheel.Slot slot = wheel.add(link);
        time.advance(Duration.ofMillis(150));
        assertEquals(1, link.pings.size());
        wheel.remove(slot);
        wheel.remove(slot);
        time.advance(Duration.ofSeconds(2));
        assertEquals(1, link.pings.size());
        assertTrue(link.staleCalls.isEmpty());
        assertEquals(0, time.pendingTasks());
    }

    @Test
    void aMemberRemovedByAnotherMembersStaleCallIsSkipped() {
        FakeLink first = new FakeLink();
        FakeLink[] second = new FakeLink[1];
        LivenessWheel.Slot[] secondSlot = new LivenessWheel.Slot[1];
        wheel.add(new LivenessWheel.Member() {
            @Override
            public long lastReadNanos() {
                return first.lastReadNanos();
            }

            @Override
            public void ping(long nowNanos) {
                // a ping that fails synchronously and tears down another connection
                wheel.remove(secondSlot[0]);
            }

            @Override
            public void stale(long silentNanos) {
                first.stale(silentNanos);
            }
        });
        second[0] = new FakeLink();
        secondSlot[0] = wheel.add(second[0]);
        time.advance(Duration.ofMillis(110));
        assertTrue(second[0].pings.isEmpty(), "removed during the pass, so not pinged");
        assertEquals(1, wheel.size());
    }
}
