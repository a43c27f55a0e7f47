package dev.meshwork.supervisor.internal;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one gateway's work on its single-threaded scheduler under a guard: a task that throws
 * anything is logged with the task's name, counted, and a periodic task keeps its schedule.
 *
 * <table>
 *   <caption>what a throwing task does</caption>
 *   <tr><th></th><th>bare {@link ScheduledExecutorService}</th><th>through this guard</th></tr>
 *   <tr><td>one-shot</td><td>the throwable sits in its future, unread</td><td>one log line, counted</td></tr>
 *   <tr><td>periodic</td><td>silently never runs again</td><td>one log line, counted, runs at its next time</td></tr>
 * </table>
 *
 * <p>Why {@link Throwable} and not only {@link RuntimeException}, as Netty's
 * {@code IdleStateHandler} does: the work calls into other bundles (probes, listeners), and a
 * bundle updated under us throws {@link NoClassDefFoundError}; the heartbeat must outlive that.
 * Issue 12: a fixed-rate heartbeat whose task threw stopped for good with no log line.
 *
 * <p>The count is kept on the scheduler's thread and read through {@link #failures()} there (the
 * supervisor publishes it in its status snapshot); {@link #onFailure} lets the owner publish at once.
 */
final class GuardedScheduler {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySupervisor.class);

    /** Failures caught so far: how many, and the last one in plain words. */
    record Failures(long count, Optional<String> last) {
        static final Failures NONE = new Failures(0, Optional.empty());

        Failures plus(String what) {
            return new Failures(count + 1, Optional.of(what));
        }
    }

    private final ScheduledExecutorService executor;
    private final String gateway;
    private Runnable onFailure = () -> { };
    private Failures tasks = Failures.NONE;
    private Failures listeners = Failures.NONE;

    GuardedScheduler(ScheduledExecutorService executor, String gateway) {
        this.executor = executor;
        this.gateway = gateway;
    }

    /** Runs after every caught failure, on the scheduler's thread (the owner republishes its status). */
    void onFailure(Runnable r) {
        this.onFailure = r;
    }

    ScheduledFuture<?> schedule(String what, Runnable task, Duration delay) {
        return executor.schedule(guard(what, task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    ScheduledFuture<?> atFixedRate(String what, Runnable task, Duration period) {
        long p = period.toNanos();
        return executor.scheduleAtFixedRate(guard(what, task), p, p, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} on the scheduler's thread soon; a late callback after shutdown is dropped. */
    void execute(String what, Runnable task) {
        try {
            executor.execute(guard(what, task));
        } catch (RejectedExecutionException ex) {
            LOG.debug("gateway {}: supervisor shut down; dropping a late {}", gateway, what);
        }
    }

    /** Records a failure of a lifecycle listener: it must not stop the transition that called it. */
    void listenerFailed(Object event, Throwable t) {
        listeners = listeners.plus(t.toString());
        LOG.warn("gateway {}: a lifecycle listener failed on {} (listener failures: {})", gateway, event, listeners.count(), t);
    }

    Failures failures() {
        return tasks;
    }

    Failures listenerFailures() {
        return listeners;
    }

    private Runnable guard(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                tasks = tasks.plus(what + ": " + t);
                LOG.error("gateway {}: supervisor task '{}' failed (task failures: {}); supervision goes on", gateway, what,
                        tasks.count(), t);
                try {
                    onFailure.run();
                } catch (Throwable again) {
                    LOG.error("gateway {}: publishing after a failed task failed too", gateway, again);
                }
            }
        };
    }
}
