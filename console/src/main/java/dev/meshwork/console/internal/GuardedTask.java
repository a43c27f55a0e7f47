package dev.meshwork.console.internal;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a scheduled console task so that a failure is logged and counted and never ends periodic
 * work: a {@code ScheduledExecutorService} silently cancels a periodic task whose run throws.
 * (Each bundle has its own small copy: implementation packages are never shared.)
 */
final class GuardedTask implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedTask.class);

    private final String name;
    private final AtomicLong failures;
    private final Runnable task;

    GuardedTask(String name, AtomicLong failures, Runnable task) {
        this.name = name;
        this.failures = failures;
        this.task = task;
    }

    @Override
    public void run() {
        try {
            task.run();
        } catch (Throwable t) { // anything escaping here would cancel the periodic task for good
            failures.incrementAndGet();
            LOG.error("console task '{}' failed, it stays scheduled: {}", name, t.toString(), t);
        }
    }
}
