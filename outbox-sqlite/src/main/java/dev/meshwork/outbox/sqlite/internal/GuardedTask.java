package dev.meshwork.outbox.sqlite.internal;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a scheduled task so that a failure is logged and counted and never ends periodic work: a
 * {@code ScheduledExecutorService} silently cancels a periodic task whose run throws (its
 * {@code ScheduledFuture} keeps the exception where nobody looks). Every task the outbox
 * schedules goes through one of these.
 */
final class GuardedTask implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedTask.class);

    private final String name;
    private final AtomicLong failures;
    private final Runnable task;

    private GuardedTask(String name, AtomicLong failures, Runnable task) {
        this.name = name;
        this.failures = failures;
        this.task = task;
    }

    /** {@code task}, guarded; a failure increments {@code failures}. */
    static Runnable of(String name, AtomicLong failures, Runnable task) {
        return new GuardedTask(name, failures, task);
    }

    @Override
    public void run() {
        try {
            task.run();
        } catch (Throwable t) { // NOPMD: anything escaping here would cancel the periodic task for good
            failures.incrementAndGet();
            LOG.error("outbox task '{}' failed, it stays scheduled: {}", name, t.toString(), t);
        }
    }
}
