package dev.meshwork.outbox.sqlite.internal.store;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.RetryableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes the database: it takes every queued operation, runs the lot in
 * one transaction and commits once (group commit).
 *
 * <p>Why: with {@code synchronous=FULL} every commit costs an fsync, so one transaction per
 * caller caps throughput at the disk's fsync rate. Callers queue an {@link Op}; the thread runs
 * whatever has queued up meanwhile as one batch, and completes each caller's future only after
 * the batch committed, so every call stays durable when it returns. One writer also means no
 * {@code SQLITE_BUSY} between our own writers.
 *
 * <p>If a batch fails (for example {@code SQLITE_FULL}), it is rolled back and its operations
 * are run again one per transaction, so one bad operation fails only its own caller and nothing
 * is half-written. An op may throw a {@link MeshworkException} (a refusal decided before it
 * wrote anything, such as an idempotency conflict) to fail only its caller.
 *
 * <p>Futures are completed on {@code completions}, never on the writer thread, so a caller's
 * continuation cannot stall or deadlock the writer.
 */
public final class Writer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Writer.class);

    /** One unit of work inside the writer's transaction. */
    @FunctionalInterface
    public interface Op<T> {
        T apply(Tx tx) throws SQLException;
    }

    /** What an op sees: the connection and a cache of prepared statements. */
    public static final class Tx {
        private final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();

        Tx(Connection connection) {
            this.connection = connection;
        }

        private final List<PreparedStatement> pendingBatches = new ArrayList<>();

        /**
         * A cached prepared statement for {@code sql}, parameters cleared. Runs any pending
         * batches first, so the op sees every earlier op's rows.
         */
        public PreparedStatement prepare(String sql) throws SQLException {
            flush();
            return statement(sql);
        }

        /**
         * A cached statement for an op that only adds rows: the op binds it and calls
         * {@code addBatch()}; the writer runs the batch (one native call for many rows) before
         * the next ordinary statement or the commit.
         */
        public PreparedStatement batch(String sql) throws SQLException {
            PreparedStatement ps = statement(sql);
            if (!pendingBatches.contains(ps)) {
                pendingBatches.add(ps);
            }
            return ps;
        }

        void flush() throws SQLException {
            if (pendingBatches.isEmpty()) {
                return;
            }
            try {
                for (PreparedStatement ps : pendingBatches) {
                    ps.executeBatch();
                }
            } finally {
                pendingBatches.clear();
            }
        }

        void discard() {
            for (PreparedStatement ps : pendingBatches) {
                try {
                    ps.clearBatch();
                } catch (SQLException ignored) {
                    // rolling back anyway
                }
            }
            pendingBatches.clear();
        }

        private PreparedStatement statement(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                statements.put(sql, ps);
            } else {
                ps.clearParameters();
            }
            return ps;
        }

        /** Hook run after the batch rolled back (to undo in-memory allocations such as sequence numbers). */
        private final List<Runnable> onRollback = new ArrayList<>();

        public void onRollback(Runnable r) {
            onRollback.add(r);
        }

        void closeAll() {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException ignored) {
                    // closing
                }
            }
        }
    }

    private record Task<T>(Op<T> op, CompletableFuture<T> future, boolean inline) {
    }

    private final Database db;
    private final Executor completions;
    private final int maxBatch;
    private final LinkedBlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final Tx tx;
    private static final long GATHER_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    private volatile boolean closing;
    /** Size of the previous batch: the writer thread's estimate of how many callers are active. */
    private int lastBatch = 1;
    private volatile long commits;
    private volatile long opsCommitted;
    /** Batches by size: bucket i holds sizes in [2^i, 2^(i+1)). Written by the writer thread only. */
    private final long[] batchSizes = new long[16];
    /** Nanoseconds the writer spent running ops (statements, batches), committing, completing callers, and idle or gathering. */
    private volatile long opsNanos;
    private volatile long commitNanos;
    private volatile long completeNanos;
    private volatile long waitNanos;

    public Writer(Database db, Executor completions, int maxBatch) {
        this.db = db;
        this.completions = completions;
        this.maxBatch = maxBatch;
        this.tx = new Tx(db.writerConnection());
        this.thread = new Thread(this::run, "meshwork-outbox-writer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Queues {@code op}; the future completes after the batch holding it committed, on the
     * completion thread, so any continuation is safe.
     */
    public <T> CompletableFuture<T> submit(Op<T> op) {
        return submit(op, false);
    }

    /**
     * As {@link #submit}, but the future is completed on the writer thread itself: one thread
     * hand-off less per batch. Only for callers that merely wait for the result or attach
     * trivial, non-blocking continuations (a counter, a wake-up).
     */
    public <T> CompletableFuture<T> submitInline(Op<T> op) {
        return submit(op, true);
    }

    private <T> CompletableFuture<T> submit(Op<T> op, boolean inline) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (closing) {
            f.completeExceptionally(new RetryableException(FailureCode.SHUT_DOWN, "outbox is shutting down"));
            return f;
        }
        queue.add(new Task<>(op, f, inline));
        return f;
    }

    /** Commits so far (for tests and stats: ops per commit shows batching at work). */
    public long commits() {
        return commits;
    }

    public long opsCommitted() {
        return opsCommitted;
    }

    /**
     * Where the writer's time goes and how large its batches are: {@code nanos.ops},
     * {@code nanos.commit} (the fsync is here), {@code nanos.complete}, {@code nanos.wait}
     * (waiting for work or gathering a batch), and {@code batch.<lo>-<hi>} counts of committed
     * batches by size. Approximate when read while the writer runs.
     */
    public Map<String, Long> timings() {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        m.put("nanos.ops", opsNanos);
        m.put("nanos.commit", commitNanos);
        m.put("nanos.complete", completeNanos);
        m.put("nanos.wait", waitNanos);
        for (int i = 0; i < batchSizes.length; i++) {
            if (batchSizes[i] > 0) {
                m.put("batch." + (1L << i) + "-" + ((1L << (i + 1)) - 1), batchSizes[i]);
            }
        }
        return m;
    }

    private void run() {
        List<Task<?>> batch = new ArrayList<>(maxBatch);
        while (true) {
            try {
                long idleFrom = System.nanoTime();
                Task<?> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    waitNanos += System.nanoTime() - idleFrom;
                    if (closing && queue.isEmpty()) {
                        break;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                gather(batch, Math.min(lastBatch, maxBatch));
                lastBatch = batch.size();
                waitNanos += System.nanoTime() - idleFrom;
                batchSizes[Math.min(batchSizes.length - 1, 31 - Integer.numberOfLeadingZeros(batch.size()))]++;
                runBatch(batch);
            } catch (InterruptedException e) {
                if (closing) {
                    break;
                }
            } catch (RuntimeException | Error e) {
                LOG.error("outbox writer failed on a batch of {}", batch.size(), e);
                failAll(batch, e);
            } finally {
                batch.clear();
            }
        }
        tx.closeAll();
    }

    /**
     * Waits a little (at most {@link #GATHER_NANOS}, far less than one fsync) for the batch to
     * reach the size of the previous one: callers woken by the last commit come back one by
     * one, and committing before the stragglers arrive would cost them a whole extra fsync.
     */
    private void gather(List<Task<?>> batch, int target) throws InterruptedException {
        long deadline = System.nanoTime() + GATHER_NANOS;
        while (batch.size() < target) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            Task<?> t = queue.poll(left, TimeUnit.NANOSECONDS);
            if (t == null) {
                return;
            }
            batch.add(t);
            queue.drainTo(batch, maxBatch - batch.size());
        }
    }

    private void runBatch(List<Task<?>> batch) {
        Connection c = db.writerConnection();
        Object[] results = new Object[batch.size()];
        Throwable[] refusals = new Throwable[batch.size()];
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch.size(); i++) {
                try {
                    results[i] = batch.get(i).op().apply(tx);
                } catch (RuntimeException refusal) {
                    // Ops decide refusals before they write, so the rest of the batch stands.
                    refusals[i] = refusal;
                }
            }
            tx.flush();
            long t1 = System.nanoTime();
            c.commit();
            long t2 = System.nanoTime();
            tx.onRollback.clear();
            commits++;
            opsCommitted += batch.size();
            complete(batch, results, refusals);
            opsNanos += t1 - t0;
            commitNanos += t2 - t1;
            completeNanos += System.nanoTime() - t2;
        } catch (SQLException e) {
            rollback(c);
            if (batch.size() == 1) {
                failAll(batch, StorageErrors.map(e, db.file().toString()));
                return;
            }
            // Isolate: one op per transaction, so only the op that cannot commit fails.
            for (Task<?> t : batch) {
                runBatch(List.of(t));
            }
        }
    }

    private void rollback(Connection c) {
        tx.discard();
        try {
            c.rollback();
        } catch (SQLException re) {
            LOG.warn("outbox rollback failed: {}", re.getMessage());
        }
        for (Runnable r : tx.onRollback) {
            r.run();
        }
        tx.onRollback.clear();
    }

    private void complete(List<Task<?>> batch, Object[] results, Throwable[] refusals) {
        boolean deferred = false;
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).inline()) {
                completeOne(batch.get(i), results[i], refusals[i]);
            } else {
                deferred = true;
            }
        }
        if (deferred) {
            List<Task<?>> copy = List.copyOf(batch);
            completions.execute(() -> {
                for (int i = 0; i < copy.size(); i++) {
                    if (!copy.get(i).inline()) {
                        completeOne(copy.get(i), results[i], refusals[i]);
                    }
                }
            });
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void completeOne(Task<?> task, Object result, Throwable refusal) {
        CompletableFuture f = task.future();
        if (refusal != null) {
            f.completeExceptionally(refusal);
        } else {
            f.complete(result);
        }
    }

    private void failAll(List<Task<?>> batch, Throwable e) {
        List<Task<?>> copy = List.copyOf(batch);
        completions.execute(() -> copy.forEach(t -> t.future().completeExceptionally(e)));
    }

    /** Stops taking work, finishes what is queued, and waits for the thread. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Task<?> t;
        while ((t = queue.poll()) != null) {
            t.future().completeExceptionally(new RetryableException(FailureCode.SHUT_DOWN, "outbox is shutting down"));
        }
    }
}
