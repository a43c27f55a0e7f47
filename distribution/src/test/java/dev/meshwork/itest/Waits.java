package dev.meshwork.itest;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Condition waits with a deadline for the in-framework tests (the test kit's {@code Await} is not
 * a bundle, so the probe carries its own): polls briefly, fails with the description and, when
 * given, the last observed state.
 */
final class Waits {

    private Waits() {
    }

    static void until(String description, Duration timeout, BooleanSupplier condition) {
        until(description, timeout, condition, () -> "");
    }

    /** As {@link #until(String, Duration, BooleanSupplier)}, naming {@code state} in the failure. */
    static void until(String description, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!test(condition)) {
            if (System.nanoTime() - deadline > 0) {
                String now = state.get();
                throw new AssertionError("timed out after " + timeout + " waiting for: " + description
                        + (now.isEmpty() ? "" : " (now: " + now + ")"));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + description, e);
            }
        }
    }

    /** A condition that throws (a service going away under it) simply does not hold yet. */
    private static boolean test(BooleanSupplier condition) {
        try {
            return condition.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
