package dev.meshwork.bench;

import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.bench.outbox.MeshNode;
import dev.meshwork.bench.outbox.MeshReceiver;
import dev.meshwork.bench.outbox.OutboxBenchChild;
import dev.meshwork.outbox.sqlite.internal.OutboxConfig;
import dev.meshwork.outbox.sqlite.internal.OutboxService;
import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.io.IOException;
import java.net.ServerSocket;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * {@code ./bench outbox [N] [enqueue-only]}: the SQLite outbox against raw JDBC on the same
 * machine, in one run.
 *
 * <ol>
 *   <li>Baselines, raw JDBC, one thread, {@code PreparedStatement.addBatch/executeBatch} then
 *       {@code commit}, into the outbox's own table and indexes (created by the outbox's own
 *       migration), same row shape (100 B payload, no idempotency key), WAL,
 *       {@code synchronous=FULL}: (a) 1,000 rows per transaction; (b) as many rows per
 *       transaction as the outbox's writer achieved with 16 blocking producers; (c) one row per
 *       transaction (the cost of one durable commit).</li>
 *   <li>Durable enqueue from 16 producers: blocking {@code enqueue} (one call outstanding per
 *       producer), and {@code enqueueAsync} with 64 outstanding per producer. Every call is durable
 *       when it returns or completes. The writer's batch-size histogram and time split are printed.</li>
 *   <li>End to end between two processes over the real Router ({@code MeshCore}) and the real
 *       WebSocket transport: this JVM is the sending node (outbox, 16 producers × 64 outstanding),
 *       a child JVM the receiving node (outbox inbox + a handler); done means the receiver
 *       recorded the id in its inbox, the handler ran, the ack came back and DONE was committed.</li>
 *   <li>Recovery: a third process (a sending node) fills 100,000 rows, starts draining to the
 *       receiver and is killed with SIGKILL; a new sending process is started and the time from
 *       its spawn to the last row done is measured (JVM start and reconnect included).</li>
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

        boolean e2eOnly = args.length > 1 && args[1].equals("e2e-only");
        double baseline = e2eOnly ? 1 : baseline(work.resolve("baseline.db"), n, 1000);
        row("raw JDBC batched inserts (1000/tx, 1 thread)", baseline, "baseline");
        double[] blocking = {0, 0};
        if (!e2eOnly) {
        double single = baseline(work.resolve("baseline1.db"), 5_000, 1);
        row("raw JDBC, 1 row/tx (one durable commit each)", single, String.format("%.3f ms per commit", 1000 / single));
        blocking = enqueue(work.resolve("blocking.db"), n, false);
        int matchedBatch = (int) Math.max(1, Math.round(blocking[1]));
        double matched = baseline(work.resolve("baseline-matched.db"), n / 2, matchedBatch);
        row("raw JDBC batched inserts (" + matchedBatch + "/tx, 1 thread)", matched,
                "same rows per commit as the outbox reached");
        row("outbox enqueue, 16 producers, blocking", blocking[0], String.format("%.2f× baseline (1000/tx), %.2f× baseline (%d/tx)",
                blocking[0] / baseline, blocking[0] / matched, matchedBatch));
        double[] async = enqueue(work.resolve("async.db"), n, true);
        row("outbox enqueueAsync, 16 producers × " + OutboxBenchChild.OUTSTANDING + " outstanding", async[0],
                String.format("%.2f× baseline (1000/tx)", async[0] / baseline));
        }
        if (args.length > 1 && args[1].equals("enqueue-only")) {
            System.out.printf("RESULT outbox enqueue_msgs_per_s=%d vs_jdbc=%.2f e2e_msgs_per_s=0 recovery_s=0%n",
                    Math.round(blocking[0]), blocking[0] / baseline);
            System.exit(0);
        }

        String receiverKey = Ed25519Identity.loadOrCreate(work.resolve("id-receiver"), Optional.of(OutboxBenchChild.RECEIVER))
                .publicKeyBase64();
        String senderKey = Ed25519Identity.loadOrCreate(work.resolve("id-sender"), Optional.of(OutboxBenchChild.SENDER)).publicKeyBase64();
        String fillerKey = Ed25519Identity.loadOrCreate(work.resolve("id-filler"), Optional.of(dev.meshwork.api.NodeId.of("filler")))
                .publicKeyBase64();
        int port = freePort();
        String url = "ws://127.0.0.1:" + port + "/mesh";
        ChildProcess receiver = child(java(MeshReceiver.class, work.resolve("id-receiver").toString(), work.resolve("receiver.db").toString(),
                Integer.toString(port), senderKey, fillerKey));
        receiver.await("READY", 60_000);

        double e2eRate;
        try (MeshNode sender = new MeshNode(work.resolve("id-sender"), OutboxBenchChild.SENDER, Set.of(), work.resolve("e2e.db"))) {
            OutboxBenchChild.connect(sender, receiverKey, url);
            waitFor("link up", 30_000, () -> OutboxBenchChild.up(sender));
            // Both JVMs are fresh: the first run pays for JIT compilation (C2 threads took ~45 % of
            // both processes' CPU in a cold run), so it is reported apart from the measured run.
            long w0 = System.nanoTime();
            OutboxBenchChild.produce(sender.outbox, e2eN, "w");
            waitFor("warm-up done", 600_000, () -> sender.outbox.deliveredCount() >= e2eN);
            double cold = e2eN / ((System.nanoTime() - w0) / 1e9);
            row("end to end, first run (cold JVMs, JIT compiling)", cold, "not the result: see the next line");
            long t0 = System.nanoTime();
            long cpu0 = selfCpuNanos();
            receiver.ask("MARK", "MARK");
            dev.meshwork.bench.outbox.ThreadCpu threads0 = dev.meshwork.bench.outbox.ThreadCpu.now();
            long childCpu0 = receiver.cpuNanos();
            OutboxBenchChild.produce(sender.outbox, e2eN, "m");
            long produced = System.nanoTime();
            waitFor("all done", 600_000, () -> sender.outbox.deliveredCount() >= 2L * e2eN);
            double s = (System.nanoTime() - t0) / 1e9;
            e2eRate = e2eN / s;
            double senderCpu = (selfCpuNanos() - cpu0) / 1e9;
            double receiverCpu = (receiver.cpuNanos() - childCpu0) / 1e9;
            String threadCpu = dev.meshwork.bench.outbox.ThreadCpu.now().since(threads0, e2eN);
            String receiverThreadCpu = receiver.ask("CPU", "CPU").substring(4);
            String stats = receiver.ask("STATS", "STATS");
            row("end to end, 2 processes, real Router, WS (2nd run)", e2eRate,
                    String.format("enqueue phase %.2f s of %.2f s; receiver: %s", (produced - t0) / 1e9, s, field(stats, "received")
                            + " distinct, " + field(stats, "duplicates") + " duplicates"));
            System.out.printf("  CPU during the run: sender process %.2f s, receiver process %.2f s, together %.2f of the machine's 2 cores"
                    + " (%.0f µs of CPU per message)%n", senderCpu, receiverCpu, (senderCpu + receiverCpu) / s,
                    (senderCpu + receiverCpu) * 1e6 / e2eN);
            System.out.println("  sender CPU by thread (µs per message): " + threadCpu);
            System.out.println("  receiver CPU by thread (µs per message): " + receiverThreadCpu);
            System.out.println("  sender router counters: " + sender.core.counters());
            System.out.println("  sender writer: " + sender.outbox.writerCounters() + " " + sender.outbox.writerTimings());
            System.out.println("  receiver: " + stats);
        }

        receiver.ask("RESET", "RESET");
        Path recDb = work.resolve("recovery.db");
        ChildProcess fill = child(java(OutboxBenchChild.class, "fill", recDb.toString(), work.resolve("id-filler").toString(), receiverKey, url,
                Integer.toString(recoveryN)));
        fill.await("DRAINING", 300_000);
        fill.kill();
        long[] left = pendingAndInflight(recDb);
        long t0 = System.nanoTime();
        ChildProcess drain = child(java(OutboxBenchChild.class, "drain", recDb.toString(), work.resolve("id-filler").toString(), receiverKey,
                url));
        String idle = drain.await("IDLE", 120_000);
        double recovery = (System.nanoTime() - t0) / 1e9;
        drain.kill();
        String stats = receiver.ask("STATS", "STATS");
        System.out.printf("%-55s %10.2f s   (%d pending + %d inflight at kill; %s; receiver %s distinct, %s duplicates)%n",
                "recovery after kill -9 (spawn to all done)", recovery, left[0], left[1], idle, field(stats, "received"),
                field(stats, "duplicates"));
        receiver.kill();
        System.out.printf("RESULT outbox enqueue_msgs_per_s=%d vs_jdbc=%.2f e2e_msgs_per_s=%d recovery_s=%.1f%n",
                Math.round(blocking[0]), blocking[0] / baseline, Math.round(e2eRate), recovery);
        System.exit(0);
    }

    private static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        return "?";
    }

    private static void row(String what, double rate, String note) {
        System.out.printf("%-55s %10.0f msg/s   %s%n", what, rate, note);
    }

    private static void waitFor(String what, long timeoutMs, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    /**
     * Raw JDBC: {@code rowsPerTx} rows per transaction, added with {@code addBatch} and run with
     * one {@code executeBatch}, then {@code commit}; WAL, {@code synchronous=FULL}, the outbox's
     * own table and indexes, default auto-checkpoint (as the outbox).
     */
    private static double baseline(Path file, int n, int rowsPerTx) throws Exception {
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
                if (i % rowsPerTx == 0 || i == n) {
                    ps.executeBatch();
                    c.commit();
                }
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Returns {rate, mean ops per commit}. */
    private static double[] enqueue(Path file, int n, boolean async) throws Exception {
        System.out.println(async ? "  enqueueAsync run:" : "  blocking enqueue run:");
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (OutboxService outbox = new OutboxService(OutboxConfig.defaults(file), InstantSource.system(), System::nanoTime, scheduler,
                () -> ThreadLocalRandom.current().nextDouble())) {
            long t0 = System.nanoTime();
            if (async) {
                OutboxBenchChild.produce(outbox, n, "m");
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
            double seconds = (System.nanoTime() - t0) / 1e9;
            double rate = n / seconds;
            Map<String, Long> w = outbox.writerCounters();
            long commits = Math.max(1, w.get("writer.commits"));
            double perCommit = w.get("writer.ops") / (double) commits;
            Map<String, Long> t = outbox.writerTimings();
            System.out.printf("    (%d commits, %.1f enqueues per commit; writer thread per commit: ops %.3f ms, commit %.3f ms,"
                            + " completing callers %.3f ms, waiting/gathering %.3f ms; wall %.3f ms per commit)%n",
                    commits, perCommit, t.get("nanos.ops") / 1e6 / commits, t.get("nanos.commit") / 1e6 / commits,
                    t.get("nanos.complete") / 1e6 / commits, t.get("nanos.wait") / 1e6 / commits, seconds * 1e3 / commits);
            StringBuilder hist = new StringBuilder("    batch sizes:");
            t.forEach((k, v) -> {
                if (k.startsWith("batch.")) {
                    hist.append(' ').append(k.substring(6)).append(':').append(v);
                }
            });
            System.out.println(hist);
            return new double[] {rate, perCommit};
        } finally {
            scheduler.shutdownNow();
        }
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

    private static long selfCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static List<String> java(Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        String extra = System.getProperty("outbox.bench.childJvmArgs", "");
        if (!extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split(" +")));
        }
        cmd.addAll(List.of("-cp",
                System.getProperty("meshwork.bench.classpath", System.getProperty("java.class.path")), main.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }


    private static ChildProcess child(List<String> command) throws IOException {
        return new ChildProcess(command, ProcessBuilder.Redirect.INHERIT, 30_000);
    }
}
