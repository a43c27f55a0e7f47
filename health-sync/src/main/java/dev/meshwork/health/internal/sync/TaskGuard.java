package dev.meshwork.health.internal.sync;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules work on an executor so that nothing dies silently: a task that throws is logged (one
 * line naming the task and why) and counted, and does not rethrow, so a periodic task keeps its
 * schedule. Without it the executor keeps the exception in the task's future, where nobody looks,
 * and cancels the periodic task for good (as {@code ScheduledThreadPoolExecutor} does). A
 * {@link VirtualMachineError} is not caught.
 *
 * <p>Thread-safe; {@link #failures} may be read from any thread.
 */
public final class TaskGuard {

    private static final Logger LOG = LoggerFactory.getLogger(TaskGuard.class);

    private final ScheduledExecutorService executor;
    private final AtomicLong failures = new AtomicLong();
    private final Runnable afterEach;

    public TaskGuard(ScheduledExecutorService executor) {
        this(executor, () -> { });
    }

    /**
     * @param afterEach run after every task, on its thread, whether it threw or not (the owner
     *                  publishes its snapshot there); guarded like the tasks
     */
    public TaskGuard(ScheduledExecutorService executor, Runnable afterEach) {
        this.executor = executor;
        this.afterEach = afterEach;
    }

    /** {@code task} as a runnable that logs, counts and swallows what it throws. */
    public Runnable guard(String name, Runnable task) {
        return () -> {
            run(name, task);
            run(name + " (after)", afterEach);
        };
    }

    private void run(String name, Runnable task) {
        try {
            task.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            long n = failures.incrementAndGet();
            LOG.warn("health task '{}' failed ({} task failures so far); its schedule goes on: {}", name, n, e.toString(), e);
        }
    }

    public void execute(String name, Runnable task) {
        executor.execute(guard(name, task));
    }

    public ScheduledFuture<?> schedule(String name, Runnable task, Duration delay) {
        return executor.schedule(guard(name, task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    public ScheduledFuture<?> scheduleWithFixedDelay(String name, Runnable task, Duration initialDelay, Duration delay) {
        return executor.scheduleWithFixedDelay(guard(name, task), initialDelay.toNanos(), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Tasks that threw so far. */
    public long failures() {
        return failures.get();
    }
}
