package dev.meshwork.bench;

import dev.meshwork.testkit.LoopbackLink;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.bench.outbox.LocalRouter;
import dev.meshwork.bench.outbox.OutboxBenchChild;
import dev.meshwork.outbox.sqlite.internal.OutboxConfig;
import dev.meshwork.outbox.sqlite.internal.OutboxService;
import dev.meshwork.outbox.sqlite.internal.store.Database;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * {@code ./bench outbox}: the SQLite outbox against raw JDBC on the same machine, in one run.
 *
 * <ol>
 *   <li>Baseline: raw JDBC batched inserts (1,000 rows per transaction) into the outbox's own
 *       table, WAL, {@code synchronous=FULL}, one thread.</li>
 *   <li>Durable enqueue from 16 producers: blocking {@code enqueue} (one call outstanding per
 *       producer), and {@code enqueueAsync} with 64 outstanding per producer. Every call is durable
 *       when it returns or completes.</li>
 *   <li>End to end between two processes: a child JVM enqueues and drains to this JVM's inbox
 *       over a loopback TCP link (a stand-in for the real Router, which is another bundle);
 *       done means the receiver recorded the message in its inbox, the handler ran and the ack
 *       came back and was committed.</li>
 *   <li>Recovery: the child fills 100,000 rows, starts draining and is killed with SIGKILL; a new
 *       child is started and the time from its spawn to the last row done is measured (JVM start
 *       included).</li>
 * </ol>
 */
public final class OutboxBench {

    private OutboxBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int e2eN = 100_000;
        int recoveryN = 100_000;
        Path work = Files.createTempDirectory("outbox-bench");
        System.out.println("outbox benchmark in " + work + " (payload " + OutboxBenchChild.PAYLOAD + " B, synchronous=FULL, WAL)");

        double baseline = baseline(work.resolve("baseline.db"), n);
        row("raw JDBC batched inserts (1000/tx, 1 thread)", baseline, "baseline");
        double blocking = enqueue(work.resolve("blocking.db"), n, false);
        row("outbox enqueue, 16 producers, blocking", blocking, String.format("%.2f× baseline", blocking / baseline));
        double async = enqueue(work.resolve("async.db"), n, true);
        row("outbox enqueueAsync, 16 producers × " + OutboxBenchChild.OUTSTANDING + " outstanding", async, String.format("%.2f× baseline", async / baseline));
        if (args.length > 1 && args[1].equals("enqueue-only")) {
            return;
        }

        Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        OutboxService receiver = new OutboxService(OutboxConfig.defaults(work.resolve("receiver.db")), InstantSource.system(),
                System::nanoTime, scheduler, () -> ThreadLocalRandom.current().nextDouble());
        receiver.setRouter(new LocalRouter(OutboxBenchChild.RECEIVER, (InboundMessage m) -> {
            received.computeIfAbsent(new String(m.payload(), 0, 8, StandardCharsets.ISO_8859_1).trim(), k -> new AtomicInteger())
                    .incrementAndGet();
            return CompletableFuture.completedFuture(null);
        }));
        LoopbackLink.Server server = new LoopbackLink.Server(OutboxBenchChild.SENDER, receiver.inbox());

        Child e2e = spawn("e2e", work.resolve("e2e.db"), server.port(), e2eN);
        String line = e2e.await("E2E", 300);
        double e2eRate = e2eN / Double.parseDouble(line.split(" ")[2]);
        e2e.kill();
        row("end to end, 2 processes, loopback stand-in link", e2eRate, received.size() + " distinct received");

        received.clear();
        Path recDb = work.resolve("recovery.db");
        Child fill = spawn("fill", recDb, server.port(), recoveryN);
        fill.await("DRAINING", 300);
        fill.kill();
        long[] left = pendingAndInflight(recDb);
        long t0 = System.nanoTime();
        Child drain = spawn("drain", recDb, server.port(), 0);
        String idle = drain.await("IDLE", 120);
        double recovery = (System.nanoTime() - t0) / 1e9;
        drain.kill();
        long dupes = received.values().stream().filter(c -> c.get() > 1).count();
        System.out.printf("%-55s %10.2f s   (%d pending + %d inflight at kill; %s; %d distinct received, %d more than once)%n",
                "recovery after kill -9 (spawn to all done)", recovery, left[0], left[1], idle, received.size(), dupes);

        server.close();
        receiver.close();
        scheduler.shutdownNow();
        System.out.printf("RESULT outbox enqueue_msgs_per_s=%d vs_jdbc=%.2f e2e_msgs_per_s=%d recovery_s=%.1f%n",
                Math.round(blocking), blocking / baseline, Math.round(e2eRate), recovery);
        System.exit(0);
    }

    private static void row(String what, double rate, String note) {
        System.out.printf("%-55s %10.0f msg/s   %s%n", what, rate, note);
    }

    private static double baseline(Path file, int n) throws Exception {
        Database.open(file, "FULL", 0).close();
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO outbox(seq, target, topic, payload, state, attempts, created_at, next_attempt_at, updated_at,
                                       idem_key, fingerprint, priority)
                    VALUES (?1, ?2, ?3, ?4, 'PENDING', 0, ?5, ?5, ?5, ?6, ?7, ?8)""");
            long t0 = System.nanoTime();
            for (int i = 1; i <= n; i++) {
                byte[] payload = new byte[OutboxBenchChild.PAYLOAD];
                ps.setLong(1, i);
                ps.setString(2, "receiver");
                ps.setString(3, "bench");
                ps.setBytes(4, payload);
                ps.setLong(5, System.currentTimeMillis());
                ps.setString(6, null);
                ps.setBytes(7, null);
                ps.setInt(8, 0);
                ps.addBatch();
                if (i % 1000 == 0 || i == n) {
                    ps.executeBatch();
                    c.commit();
                }
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static double enqueue(Path file, int n, boolean async) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (OutboxService outbox = new OutboxService(OutboxConfig.defaults(file), InstantSource.system(), System::nanoTime, scheduler,
                () -> ThreadLocalRandom.current().nextDouble())) {
            long t0 = System.nanoTime();
            if (async) {
                produceAsync(outbox, n);
            } else {
                List<Thread> threads = new ArrayList<>();
                AtomicLong next = new AtomicLong();
                for (int t = 0; t < OutboxBenchChild.PRODUCERS; t++) {
                    Thread th = new Thread(() -> {
                        while (next.getAndIncrement() < n) {
                            outbox.enqueue(OutboxRequest.of(OutboxBenchChild.RECEIVER, "bench", new byte[OutboxBenchChild.PAYLOAD]));
                        }
                    });
                    threads.add(th);
                    th.start();
                }
                for (Thread th : threads) {
                    th.join();
                }
            }
            double rate = n / ((System.nanoTime() - t0) / 1e9);
            Map<String, Long> w = outbox.writerCounters();
            System.out.printf("  (%d commits, %.1f enqueues per commit)%n", w.get("writer.commits"),
                    w.get("writer.ops") / (double) Math.max(1, w.get("writer.commits")));
            return rate;
        } finally {
            scheduler.shutdownNow();
        }
    }

    private static void produceAsync(OutboxService outbox, int n) throws Exception {
        OutboxBenchChild.produce(outbox, n);
    }

    private static long[] pendingAndInflight(Path db) throws Exception {
        SQLiteDataSource ds = new SQLiteDataSource();
        ds.setUrl("jdbc:sqlite:" + db);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT SUM(state = 'PENDING'), SUM(state = 'INFLIGHT') FROM outbox")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    private static final class Child {
        final Process process;
        final BufferedReader out;

        Child(Process process) {
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        String await(String prefix, int seconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(prefix)) {
                    return line;
                }
                if (System.nanoTime() > deadline) {
                    break;
                }
            }
            throw new IllegalStateException("child did not print " + prefix);
        }

        void kill() throws InterruptedException {
            process.toHandle().destroyForcibly();
            process.waitFor();
        }
    }

    private static Child spawn(String mode, Path db, int port, int n) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("meshwork.bench.classpath", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx1g", "-cp", cp, OutboxBenchChild.class.getName(), mode, db.toString(),
                Integer.toString(port), Integer.toString(n));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return new Child(pb.start());
    }
}
