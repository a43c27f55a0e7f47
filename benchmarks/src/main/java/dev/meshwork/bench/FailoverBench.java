package dev.meshwork.bench;

import dev.meshwork.api.NodeId;
import dev.meshwork.bench.failover.FailoverNode;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import dev.meshwork.testkit.FreezableProxy;

/**
 * {@code ./bench failover [TRIALS] [BUSY_SECONDS]}: the router's failover, measured between
 * processes on loopback.
 *
 * <p>Node b (a process) listens on two ports; node a (a process) streams acknowledged messages
 * to b through two freezable TCP proxies ({@link FreezableProxy}, in this harness process: the third process), one per
 * URL of b. A trial black-holes the proxy of a's active channel (frozen: no data, no FIN, no RST)
 * and measures until an ack arrives over the other channel; then the proxy is restored and a
 * re-establishes its standby. Then clean closes, then a run with both cores saturated by another
 * process counting false failovers, then loss and duplicates over the whole run. Default router
 * settings throughout. The transport is a plain length-prefixed TCP one (the WebSocket
 * transport is a separate bundle); the router's own liveness decides, not the transport's.
 */
public final class FailoverBench {

    private FailoverBench() {
    }

    static List<String> java(String... args) {
        List<String> c = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("meshwork.bench.classpath",
                System.getProperty("java.class.path")), FailoverNode.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int busySeconds = args.length > 1 ? Integer.parseInt(args[1]) : 180;
        Path dir = Files.createTempDirectory("meshwork-failover");
        Ed25519Identity a = Ed25519Identity.loadOrCreate(dir.resolve("a"), Optional.of(NodeId.of("a")));
        Ed25519Identity b = Ed25519Identity.loadOrCreate(dir.resolve("b"), Optional.of(NodeId.of("b")));
        int b1 = freePort();
        int b2 = freePort();
        int x1 = freePort();
        int x2 = freePort();
        FreezableProxy p1 = new FreezableProxy(x1, b1);
        FreezableProxy p2 = new FreezableProxy(x2, b2);
        String u1 = "ws://127.0.0.1:" + x1 + "/mesh";
        String u2 = "ws://127.0.0.1:" + x2 + "/mesh";
        ChildProcess nb = child(java("b", dir.resolve("b").toString(), a.publicKeyBase64(), "" + b1, "" + b2));
        ChildProcess na = null;
        Process burner = null;
        try {
            nb.await("READY", 30_000);
            na = child(java("a", dir.resolve("a").toString(), "b", b.publicKeyBase64(), u1, u2));
            awaitOpen(na, 2, 30_000);
            na.in.println("START");
            Thread.sleep(3000);
            List<Long> blackhole = new ArrayList<>();
            System.out.printf("%-10s %-6s %-40s %10s%n", "trial", "kind", "black-holed", "ms");
            for (int i = 1; i <= trials; i++) {
                FreezableProxy victim = activeProxy(na, u1, p1, p2);
                na.lines.clear();
                long t0 = System.nanoTime();
                victim.freeze();
                long flow = Long.parseLong(na.await("FLOW", 15_000).split(" ")[1]);
                long ms = (flow - t0) / 1_000_000;
                blackhole.add(ms);
                System.out.printf("%-10d %-6s %-40s %10d%n", i, "black", victim == p1 ? u1 : u2, ms);
                victim.closeAllPairs();
                victim.thaw();
                awaitOpen(na, 2, 60_000);
                Thread.sleep(2000); // let the new standby settle before the next trial
            }
            List<Long> clean = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                FreezableProxy victim = activeProxy(na, u1, p1, p2);
                na.lines.clear();
                long t0 = System.nanoTime();
                victim.closeAllPairs();
                long flow = Long.parseLong(na.await("FLOW", 15_000).split(" ")[1]);
                long ms = (flow - t0) / 1_000_000;
                clean.add(ms);
                System.out.printf("%-10d %-6s %-40s %10d%n", i, "close", victim == p1 ? u1 : u2, ms);
                awaitOpen(na, 2, 60_000);
                Thread.sleep(2000);
            }
            na.lines.clear();
            int before = countFailovers(na);
            burner = new ProcessBuilder(java("burn", "4")).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Thread.sleep(busySeconds * 1000L);
            burner.destroyForcibly();
            int falseFailovers = countFailovers(na) - before;
            System.out.printf("busy run: %d s with 4 spinning threads on 2 cores, failovers %d%n", busySeconds, falseFailovers);
            String done = na.ask("STOP", "DONE");
            String stats = nb.ask("STATS", "STATS");
            long sent = field(done, "sent");
            long received = field(stats, "received");
            long duplicates = field(stats, "duplicates");
            System.out.println(done);
            System.out.println(stats);
            long lost = Math.max(0, sent - received);
            Collections.sort(blackhole);
            Collections.sort(clean);
            long median = percentile(blackhole, 50);
            long p99 = percentile(blackhole, 99);
            long cleanMedian = percentile(clean, 50);
            System.out.printf("black hole: median %d ms, p99 %d ms over %d trials (reference watchdog 75000 ms, Akka ~4500, SWIM ~4000)%n",
                    median, p99, blackhole.size());
            System.out.printf("clean close: median %d ms over %d trials%n", cleanMedian, clean.size());
            System.out.printf("RESULT failover blackhole_median_ms=%d blackhole_p99_ms=%d clean_close_ms=%d lost=%d duplicates=%d false_failovers=%d%n",
                    median, p99, cleanMedian, lost, duplicates, falseFailovers);
        } finally {
            if (burner != null) {
                burner.destroyForcibly();
            }
            if (na != null) {
                na.process.destroyForcibly();
            }
            nb.process.destroyForcibly();
            p1.close();
            p2.close();
        }
    }

    private static int countFailovers(ChildProcess a) {
        synchronized (a.all) {
            return (int) a.all.stream().filter(l -> l.startsWith("EVENT") && l.contains("ACTIVE_CHANNEL_CHANGED")
                    && l.contains("failover")).count();
        }
    }

    private static long field(String line, String key) {
        for (String part : line.split(" ")) {
            if (part.startsWith(key + "=")) {
                return Long.parseLong(part.substring(key.length() + 1));
            }
        }
        throw new IllegalStateException("no " + key + " in " + line);
    }

    private static long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return -1;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static FreezableProxy activeProxy(ChildProcess a, String u1, FreezableProxy p1, FreezableProxy p2) throws InterruptedException {
        String status = a.ask("STATUS", "STATUS");
        return status.contains("active=" + u1) ? p1 : p2;
    }

    private static void awaitOpen(ChildProcess a, int open, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            if (a.ask("STATUS", "STATUS").contains("open=" + open)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("a did not get " + open + " open channels within " + timeoutMs + " ms");
    }

    private static ChildProcess child(List<String> command) throws IOException {
        return new ChildProcess(command, ProcessBuilder.Redirect.DISCARD, 75_000);
    }
}
