package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.ProbeResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Waits for a new gateway process to become ready: runs the readiness probe, again after every
 * failed attempt, until one passes or the deadline passes. It only notices; what readiness or
 * its absence means (RUNNING, a switch done, BACKOFF, a failed switch) is
 * {@link GatewaySupervisor}'s call.
 *
 * <pre>
 *   begin ──probe──▶ ok ──▶ ready(detail)
 *            │ ▲
 *      failed│ │ after {@code readiness.retry}       deadline ({@code readiness.timeout}) ──▶ timedOut()
 *            ▼ │
 *         notYet(detail)
 * </pre>
 * Everything stops once {@code current} no longer holds (a newer start, a stop). Not
 * thread-safe: used on the supervisor's thread.
 */
final class Readiness {

    /** What the attempts come to; called on the supervisor's thread while the start is current. */
    interface Outcome {
        void ready(String detail);

        void notYet(String detail);

        void timedOut();
    }

    private final GuardedScheduler tasks;
    private ScheduledFuture<?> deadline;

    Readiness(GuardedScheduler tasks) {
        this.tasks = tasks;
    }

    /**
     * @param current whether the start these attempts belong to is still the current one
     * @param probe   runs one attempt of the readiness probe
     * @param retry   the pause before the next attempt (read when it is due)
     * @param post    runs a probe's answer on the supervisor's thread
     */
    void begin(Duration timeout, BooleanSupplier current, Supplier<CompletableFuture<ProbeResult>> probe,
            Supplier<Duration> retry, Consumer<Runnable> post, Outcome outcome) {
        deadline = tasks.schedule("readiness deadline", () -> {
            if (current.getAsBoolean()) {
                outcome.timedOut();
            }
        }, timeout);
        attempt(current, probe, retry, post, outcome);
    }

    /** The start ended one way or another: no deadline any more. */
    void cancel() {
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    private void attempt(BooleanSupplier current, Supplier<CompletableFuture<ProbeResult>> probe, Supplier<Duration> retry,
            Consumer<Runnable> post, Outcome outcome) {
        probe.get().thenAccept(r -> post.accept(() -> {
            if (!current.getAsBoolean()) {
                return; // a superseded start: its probe result means nothing now
            }
            if (r.ok()) {
                outcome.ready(r.detail());
            } else {
                outcome.notYet(r.detail());
                tasks.schedule("readiness retry", () -> {
                    if (current.getAsBoolean()) {
                        attempt(current, probe, retry, post, outcome);
                    }
                }, retry.get());
            }
        }));
    }
}
