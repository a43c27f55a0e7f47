package dev.meshwork.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock and a scheduler that move only when a test says so.
 *
 * <p>Implements {@link ScheduledExecutorService} and {@link InstantSource}; {@link #nanoTime()} is
 * the monotonic clock. Tasks run on the thread that calls {@link #advance(Duration)} or
 * {@link #runDue()}, in deadline order (FIFO among equal deadlines), so a test is deterministic
 * and never sleeps. {@link #jumpWallClock(Duration)} moves only the wall clock, as a laptop waking
 * from sleep does.
 *
 * <pre>{@code
 * ManualTime time = new ManualTime();
 * Backoff b = new Backoff(time, time::nanoTime, ...);
 * time.advance(Duration.ofMillis(500));   // runs whatever was due by then
 * }</pre>
 */
public final class ManualTime extends AbstractExecutorService implements ScheduledExecutorService, InstantSource {

    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private final AtomicLong sequence = new AtomicLong();
    private final List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private long nanos;
    private Instant wallAtZero;
    private boolean shutdown;

    /** Starts at monotonic time 0 and wall time 2026-01-01T00:00:00Z. */
    public ManualTime() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public ManualTime(Instant wallStart) {
        this.wallAtZero = wallStart;
    }

    /** The monotonic clock, in nanoseconds. */
    public synchronized long nanoTime() {
        return nanos;
    }

    @Override
    public synchronized Instant instant() {
        return wallAtZero.plusNanos(nanos);
    }

    /** Moves the wall clock but not the monotonic one (sleep, NTP step). Runs nothing. */
    public synchronized void jumpWallClock(Duration jump) {
        wallAtZero = wallAtZero.plus(jump);
    }

    /** Moves both clocks forward, running every task that falls due, each at its own time. */
    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time only moves forward: " + duration);
        }
        long target;
        synchronized (this) {
            target = nanos + duration.toNanos();
        }
        while (true) {
            Task<?> next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.deadline > target) {
                    nanos = target;
                    return;
                }
                queue.poll();
                nanos = Math.max(nanos, next.deadline);
            }
            next.runOnce();
        }
    }

    /** Runs every task due now (including tasks that due tasks submit for now). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Number of tasks waiting, periodic ones included. */
    public synchronized int pendingTasks() {
        return (int) queue.stream().filter(t -> !t.isDone()).count();
    }

    /** Deadline of the next waiting task relative to now, or null if none. */
    public synchronized Duration nextDeadline() {
        return queue.stream().filter(t -> !t.isDone()).mapToLong(t -> t.deadline).min()
                .stream().mapToObj(d -> Duration.ofNanos(d - nanos)).findFirst().orElse(null);
    }

    private synchronized <T> Task<T> enqueue(Task<T> task) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("ManualTime is shut down");
        }
        queue.add(task);
        return task;
    }

    @Override
    public void execute(Runnable command) {
        enqueue(new Task<>(Executors2.callable(command), nanoTime(), 0));
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return enqueue(new Task<>(Executors2.callable(command), nanoTime() + Math.max(0, unit.toNanos(delay)), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return enqueue(new Task<>(callable, nanoTime() + Math.max(0, unit.toNanos(delay)), 0));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        if (period <= 0) {
            throw new IllegalArgumentException("period must be positive");
        }
        return enqueue(new Task<>(Executors2.callable(command), nanoTime() + unit.toNanos(initialDelay), unit.toNanos(period)));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return scheduleAtFixedRate(command, initialDelay, delay, unit);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> pending = new ArrayList<>(queue);
        queue.clear();
        return pending;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        private long deadline;
        private final long period;
        private final long seq = sequence.incrementAndGet();

        Task(Callable<V> callable, long deadline, long period) {
            super(callable);
            this.deadline = deadline;
            this.period = period;
        }

        void runOnce() {
            if (period == 0) {
                run();
            } else if (runAndReset()) {
                deadline += period;
                enqueue(this);
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(deadline - nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> o = (Task<?>) other;
            int byDeadline = Long.compare(deadline, o.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(seq, o.seq);
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            boolean cancelled = super.cancel(mayInterrupt);
            synchronized (ManualTime.this) {
                queue.remove(this);
            }
            return cancelled;
        }

        @Override
        protected void setException(Throwable t) {
            super.setException(t);
            // A periodic task that throws stops, as with ScheduledThreadPoolExecutor; a test should
            // hear about it rather than find a silently dead timer.
            failures.add(t);
        }
    }

    /** Exceptions thrown by tasks so far (a scheduler would swallow them into their futures). */
    public List<Throwable> failures() {
        return List.copyOf(failures);
    }

    /** Gets a future's value now, failing if it is not done: for futures driven by this scheduler. */
    public static <T> T resultNow(java.util.concurrent.Future<T> future) {
        if (!future.isDone()) {
            throw new AssertionError("future is not done");
        }
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw new AssertionError("future failed", e.getCause());
        } catch (CancellationException | InterruptedException e) {
            throw new AssertionError("future was cancelled or interrupted", e);
        }
    }

    /** Unused; satisfies ExecutorService for callers that invoke many tasks at once. */
    @Override
    public <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) {
        List<java.util.concurrent.Future<T>> futures = new ArrayList<>();
        for (Callable<T> t : tasks) {
            futures.add(submit(t));
        }
        runDue();
        return futures;
    }

    private static final class Executors2 {
        static Callable<Object> callable(Runnable r) {
            return java.util.concurrent.Executors.callable(r);
        }
    }
}
