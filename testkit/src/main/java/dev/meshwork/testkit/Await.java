package dev.meshwork.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline: the only way tests over real sockets and processes
 * wait. Polls with a short pause; fails with the description and the last observed value.
 */
public final class Await {

    private Await() {
    }

    /** Waits until {@code condition} holds, failing after {@code timeout}. */
    public static void until(String description, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + description);
            }
            pause();
        }
    }

    /** Waits until {@code supplier} yields a non-null value, returning it. */
    public static <T> T value(String description, Duration timeout, Supplier<T> supplier) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T value;
        while ((value = supplier.get()) == null) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + description);
            }
            pause();
        }
        return value;
    }

    private static void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
    }
}
