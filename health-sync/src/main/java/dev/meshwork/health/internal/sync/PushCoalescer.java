package dev.meshwork.health.internal.sync;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

/**
 * Coalesces pushes: the first change arms one timer, and changes until it fires go out with it
 * in one push per neighbour. Not thread-safe: the engine's thread calls it.
 */
final class PushCoalescer {

    private final TaskGuard tasks;
    private final Runnable flush;
    private ScheduledFuture<?> timer;

    /** @param flush sends what every neighbour lacks; run when the timer fires */
    PushCoalescer(TaskGuard tasks, Runnable flush) {
        this.tasks = tasks;
        this.flush = flush;
    }

    /** Arms the timer for {@code window} unless it is armed already (the earlier deadline holds). */
    void schedule(Duration window) {
        if (timer == null) {
            timer = tasks.schedule("push", () -> {
                timer = null;
                flush.run();
            }, window);
        }
    }

    /** Disarms the timer: the caller pushes now. */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
