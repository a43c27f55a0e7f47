package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.testkit.LoopbackLink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the sending process with SIGKILL at random moments and checks with a total-queue oracle
 * (as Jepsen's) that every enqueue that returned is delivered exactly once to the receiving
 * handler, and that nothing unexpected arrives.
 *
 * <p>The sender ({@link CrashChild}: producers and the drain on a real database file) runs in a
 * child JVM; the receiver (a real outbox inbox on its own file) runs here. They are linked by
 * {@link LoopbackLink}, a stand-in for the real Router over loopback TCP.
 */
class CrashTest {

    private static final int KILLS = 20;
    private static final Pattern PAYLOAD = Pattern.compile("r(\\d+)-t(\\d+)-(\\d+)");

    @TempDir
    Path dir;

    private static final class Child {
        final Process process;
        final AtomicInteger oks = new AtomicInteger();
        final AtomicReference<String> idle = new AtomicReference<>();
        volatile boolean ready;
        Thread reader;

        /**
         * SIGKILL through the process handle: {@code Process.destroyForcibly()} would also close
         * our end of the child's stdout and lose the OK lines still in the pipe, which the oracle
         * needs. Then read the pipe to its end.
         */
        void kill() throws InterruptedException {
            process.toHandle().destroyForcibly();
            process.waitFor();
            reader.join(10_000);
        }

        Child(Process process) {
            this.process = process;
        }
    }

    private Child start(Path db, int port, int run, int producers, Set<String> acknowledged, Map<String, Integer> lastOk) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                db.toString(), Integer.toString(port), Integer.toString(run), Integer.toString(producers));
        pb.redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("child-stderr.log").toFile()));
        Child c = new Child(pb.start());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(c.process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("OK ")) {
                        String payload = line.substring(3);
                        Matcher m = PAYLOAD.matcher(payload);
                        if (m.matches()) {
                            acknowledged.add(payload);
                            lastOk.merge("r" + m.group(1) + "-t" + m.group(2), Integer.parseInt(m.group(3)), Math::max);
                            c.oks.incrementAndGet();
                        }
                    } else if (line.equals("READY")) {
                        c.ready = true;
                    } else if (line.startsWith("IDLE")) {
                        c.idle.set(line);
                    }
                }
            } catch (java.io.IOException ignored) {
                // killed
            }
        }, "child-stdout");
        reader.setDaemon(true);
        c.reader = reader;
        reader.start();
        return c;
    }

    @Test
    void killedSenderLosesNoReturnedEnqueueAndTheHandlerSeesEachMessageOnce() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        NodeId a = NodeId.of("a");
        NodeId b = NodeId.of("b");
        Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Map<String, Integer> lastOk = new ConcurrentHashMap<>();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (InMemoryMesh local = new InMemoryMesh();
                OutboxService receiver = new OutboxService(OutboxConfig.defaults(dir.resolve("receiver.db")), InstantSource.system(),
                        System::nanoTime, scheduler, () -> 0.5);
                LoopbackLink.Server server = new LoopbackLink.Server(a, receiver.inbox())) {
            receiver.setRouter(local.node(b));
            local.register(b, "orders", (InboundMessage m) -> {
                delivered.computeIfAbsent(new String(m.payload(), StandardCharsets.UTF_8), k -> new AtomicInteger()).incrementAndGet();
                return CompletableFuture.completedFuture(null);
            });
            Path db = dir.resolve("sender.db");
            List<Integer> killedAfter = new ArrayList<>();
            for (int run = 0; run < KILLS; run++) {
                Child c = start(db, server.port(), run, 4, acknowledged, lastOk);
                Await.until("child " + run + " ready", Duration.ofSeconds(30), () -> c.ready || !c.process.isAlive());
                // A random moment: sometimes during recovery right after start, mostly mid-stream.
                int target = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(600);
                Await.until("child " + run + " made progress", Duration.ofSeconds(30), () -> c.oks.get() >= target || !c.process.isAlive());
                assertTrue(c.process.isAlive(), "child " + run + " died on its own; see " + dir.resolve("child-stderr.log"));
                c.kill();
                killedAfter.add(c.oks.get());
            }
            Child last = start(db, server.port(), KILLS, 0, acknowledged, lastOk);
            try {
                Await.until("the restarted sender drains everything", Duration.ofSeconds(30),
                        () -> last.idle.get() != null && delivered.keySet().containsAll(acknowledged));
                String[] idle = last.idle.get().split(" ");
                assertEquals("0", idle[2], "no message went dead");
            } finally {
                last.kill();
            }

            String context = " (seed " + seed + ", OKs per run " + killedAfter + ")";
            assertTrue(acknowledged.size() > 1000, "too little traffic to mean anything: " + acknowledged.size() + context);
            for (String p : acknowledged) {
                AtomicInteger n = delivered.get(p);
                assertTrue(n != null, "returned enqueue " + p + " was lost" + context);
            }
            for (Map.Entry<String, AtomicInteger> e : delivered.entrySet()) {
                assertEquals(1, e.getValue().get(), e.getKey() + " delivered more than once" + context);
                Matcher m = PAYLOAD.matcher(e.getKey());
                assertTrue(m.matches(), "unexpected payload " + e.getKey());
                int last0 = lastOk.getOrDefault("r" + m.group(1) + "-t" + m.group(2), -1);
                assertTrue(Integer.parseInt(m.group(3)) <= last0 + 1,
                        e.getKey() + " was never enqueued (producer's last returned index " + last0 + ")" + context);
            }
            System.out.println("crash test: " + KILLS + " kills, " + acknowledged.size() + " returned enqueues, "
                    + delivered.size() + " delivered once each, " + receiver.inboxCounters().get("inbox.duplicates")
                    + " re-sent copies dropped by the inbox" + context);
        } finally {
            scheduler.shutdownNow();
        }
    }
}
