package dev.meshwork.supervisor.internal;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Restart intensity in the spirit of OTP supervisors: at most {@code max} automatic restarts
 * within {@code window}; one more and the governor opens, which the state machine turns into
 * FAILED with a slow retry and an event (never a silent drop, never a dead end).
 *
 * <p>Explicit requests by an operator are not counted and never refused: the governor exists to
 * stop a crash loop, not to second-guess people. Not thread-safe: used on the supervisor thread.
 */
public final class Governor {

    private final int max;
    private final long windowNanos;
    private final ArrayDeque<Long> restarts = new ArrayDeque<>();

    public Governor(int max, Duration window) {
        this.max = max;
        this.windowNanos = window.toNanos();
    }

    /** Records an automatic restart at {@code now} if the budget allows it; false when the governor is open. */
    public boolean tryAcquire(long now) {
        while (!restarts.isEmpty() && now - restarts.peekFirst() >= windowNanos) {
            restarts.removeFirst();
        }
        if (restarts.size() >= max) {
            return false;
        }
        restarts.addLast(now);
        return true;
    }

    /** Restarts counted in the current window. */
    public int used(long now) {
        return (int) restarts.stream().filter(t -> now - t < windowNanos).count();
    }

    /** Forgets the history (after a slow retry or a configuration change). */
    public void reset() {
        restarts.clear();
    }

    public int max() {
        return max;
    }

    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }
}
