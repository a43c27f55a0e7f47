package dev.meshwork.launcher.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * {@code java -jar meshwork.jar demo}: three nodes on loopback as child processes, each reachable
 * over two URLs (each through a proxy the demo can black-hole), durable messages flowing, a
 * channel black-holed and a node killed on a timer — narrated in plain words from what the
 * nodes' consoles report.
 */
public final class Demo {

    private final PrintStream out;
    private final Path java;
    private final Path launcherJar;
    private final Path root;
    private final List<DemoNode> nodes = new ArrayList<>();
    private final Map<Integer, BlackholeProxy> proxies = new HashMap<>();
    /** The proxy in front of each node's real listening port (an inbound channel names that port). */
    private final Map<Integer, BlackholeProxy> proxyInFront = new HashMap<>();
    private final AtomicBoolean stopping = new AtomicBoolean();

    public Demo(PrintStream out, Path java, Path launcherJar, Path root) {
        this.out = out;
        this.java = java;
        this.launcherJar = launcherJar;
        this.root = root;
    }

    /** Runs the story, then keeps the mesh up until {@code stop} counts down (Ctrl-C). */
    public void run(CountDownLatch stop) throws Exception {
        try {
            story();
            say("The mesh keeps running; watch it at " + nodes.get(0).console() + " — Ctrl-C stops the demo.");
            stop.await();
        } finally {
            shutdown();
        }
    }

    private void story() throws Exception {
        Files.createDirectories(root);
        say("Starting three nodes under " + root + " (alpha, beta, gamma), each listening on two ports.");
        for (String id : List.of("alpha", "beta", "gamma")) {
            DemoNode node = new DemoNode(id, root, 2);
            List<Integer> advertised = new ArrayList<>();
            for (int port : node.meshPorts) {
                BlackholeProxy proxy = new BlackholeProxy(new InetSocketAddress("127.0.0.1", port));
                proxies.put(proxy.port(), proxy);
                proxyInFront.put(port, proxy);
                advertised.add(proxy.port());
            }
            node.advertise(advertised);
            nodes.add(node);
        }
        for (DemoNode node : nodes) {
            node.configure(List.of());
            node.start(java, launcherJar);
            node.stop();
        }
        say("Each node made its Ed25519 identity; every node now trusts the other two by key.");
        for (DemoNode node : nodes) {
            List<DemoNode> peers = new ArrayList<>(nodes);
            peers.remove(node);
            node.configure(peers);
        }
        for (DemoNode node : nodes) {
            node.start(java, launcherJar);
        }
        DemoNode alpha = nodes.get(0);
        DemoNode beta = nodes.get(1);
        DemoNode gamma = nodes.get(2);
        say("Dashboard: " + alpha.console() + "  (beta: " + beta.console() + ", gamma: " + gamma.console() + ")");
        await(30_000, () -> nodes.stream().allMatch(n -> peersUp(n) == 2));
        say("All links are up: every node reaches the other two directly, with a hot standby channel each.");

        send(alpha, beta, 100, "hello-");
        await(30_000, () -> probe(beta)[0] >= 100);
        say("alpha sent 100 durable messages to beta through its outbox: beta's handler saw "
                + probe(beta)[0] + " deliveries of " + probe(beta)[1] + " distinct messages.");

        Optional<URI> active = activeChannel(alpha, "beta");
        Optional<BlackholeProxy> hole = active.map(u -> proxies.getOrDefault(u.getPort(), proxyInFront.get(u.getPort())));
        if (hole.isEmpty()) {
            say("alpha has no active channel to beta through a proxy (" + active.map(URI::toString).orElse("none")
                    + "); skipping the black hole.");
        } else {
            AtomicInteger sent = new AtomicInteger();
            Thread sender = new Thread(() -> {
                while (!stopping.get() && sent.get() < 200) {
                    try {
                        alpha.post("/outbox?target=beta&topic=meshwork.console.probe&key=during-" + sent.get(), "during failover");
                        sent.incrementAndGet();
                        Thread.sleep(10);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "demo-sender");
            sender.start();
            say("Now black-holing alpha's active channel to beta (" + active.get() + "): packets vanish, no FIN, no RST.");
            long frozenAt = System.nanoTime();
            hole.get().freeze();
            boolean moved = await(10_000, () -> activeChannel(alpha, "beta").filter(u -> !u.equals(active.get())).isPresent());
            long millis = (System.nanoTime() - frozenAt) / 1_000_000;
            say(moved ? "alpha moved traffic to its standby channel " + activeChannel(alpha, "beta").map(URI::toString).orElse("?")
                    + " after " + millis + " ms." : "alpha has not moved traffic within 10 s (see " + alpha.dir.resolve("node.log") + ").");
            sender.join();
            await(30_000, () -> probe(beta)[0] >= 300);
            long[] p = probe(beta);
            say("Messages sent during the failover: 200; beta's handler now saw " + p[0] + " deliveries of "
                    + p[1] + " distinct messages" + (p[0] == p[1] ? " — nothing lost, nothing twice." : "."));
            hole.get().thaw();
        }

        say("Killing gamma (SIGKILL) while alpha keeps writing to it.");
        gamma.kill();
        await(10_000, () -> peerState(alpha, "gamma").map(s -> !s.equals("UP")).orElse(false));
        send(alpha, gamma, 50, "while-down-");
        say("alpha sees gamma " + peerState(alpha, "gamma").orElse("?") + "; 50 messages wait in alpha's outbox ("
                + outboxPending(alpha) + " pending).");
        say("Restarting gamma.");
        long restartAt = System.nanoTime();
        gamma.start(java, launcherJar);
        boolean drained = await(60_000, () -> probe(gamma)[0] >= 50);
        say(drained ? "gamma is back; alpha's outbox drained into it in " + (System.nanoTime() - restartAt) / 1_000_000
                + " ms: " + probe(gamma)[0] + " deliveries, " + probe(gamma)[1] + " distinct." : "gamma has not caught up yet.");
        say("Health view on alpha (who sees whom): " + healthLine(alpha));
    }

    private void send(DemoNode from, DemoNode to, int count, String tag) throws Exception {
        for (int i = 0; i < count; i++) {
            from.post("/outbox?target=" + to.id + "&topic=meshwork.console.probe&key=" + tag + i, tag + i);
        }
    }

    /** Stops every child and proxy; safe to call twice. */
    public void shutdown() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        for (DemoNode node : nodes) {
            try {
                node.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        proxies.values().forEach(BlackholeProxy::close);
        say("Demo stopped; no node left running.");
    }

    private void say(String line) {
        out.println("demo: " + line);
        out.flush();
    }

    private static boolean await(long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> peers(DemoNode node) {
        try {
            Object peers = node.status().get("peers");
            return peers == null ? List.of() : (List<Map<String, Object>>) peers;
        } catch (IOException | InterruptedException | RuntimeException e) {
            return List.of();
        }
    }

    private static long peersUp(DemoNode node) {
        return peers(node).stream().filter(p -> "UP".equals(p.get("state"))).count();
    }

    private static Optional<String> peerState(DemoNode node, String peer) {
        return peers(node).stream().filter(p -> peer.equals(p.get("node"))).map(p -> String.valueOf(p.get("state"))).findFirst();
    }

    @SuppressWarnings("unchecked")
    private static Optional<URI> activeChannel(DemoNode node, String peer) {
        for (Map<String, Object> p : peers(node)) {
            if (peer.equals(p.get("node"))) {
                for (Map<String, Object> c : (List<Map<String, Object>>) p.getOrDefault("channels", List.of())) {
                    if (Boolean.TRUE.equals(c.get("active"))) {
                        return Optional.of(URI.create(String.valueOf(c.get("uri"))));
                    }
                }
            }
        }
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    private static long[] probe(DemoNode node) {
        try {
            Map<String, Object> probe = (Map<String, Object>) node.status().get("probe");
            if (probe == null) {
                return new long[] {0, 0};
            }
            return new long[] {((Number) probe.get("deliveries")).longValue(), ((Number) probe.get("distinct")).longValue()};
        } catch (IOException | InterruptedException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    @SuppressWarnings("unchecked")
    private static String outboxPending(DemoNode node) {
        try {
            Map<String, Object> outbox = (Map<String, Object>) node.status().get("outbox");
            Map<String, Object> byState = (Map<String, Object>) outbox.get("byState");
            return String.valueOf(((Number) byState.get("pending")).longValue() + ((Number) byState.get("inflight")).longValue());
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "?";
        }
    }

    @SuppressWarnings("unchecked")
    private static String healthLine(DemoNode node) {
        try {
            Map<String, Object> health = (Map<String, Object>) node.status().get("health");
            if (health == null) {
                return "(no health view in this node)";
            }
            StringBuilder line = new StringBuilder();
            for (Map<String, Object> o : (List<Map<String, Object>>) health.get("observations")) {
                line.append(line.length() == 0 ? "" : "; ").append(o.get("observer")).append(" sees ").append(o.get("subject"))
                        .append(' ').append(o.get("reachability"));
            }
            return line.toString();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "(unavailable)";
        }
    }
}
