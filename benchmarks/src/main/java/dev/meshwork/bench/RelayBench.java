package dev.meshwork.bench;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.ws.internal.WsSettings;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./bench relay [SECONDS [ROUNDS [WINDOW]]]}: acknowledged messages per second through one
 * relay, authenticated end to end (the origin signs every relayed envelope, the target its ack,
 * both verified), against the same traffic to a direct neighbour, in the same run.
 *
 * <p>Three routers in this process over the real WebSocket transport on loopback: a–b and b–c are
 * links, a has none to c. "direct" is a sending to b; "relayed" is a sending to c, so through b on
 * the same a–b link. Each round measures both, alternating, after a warm-up of each; the figure is
 * the median of the rounds. {@code WINDOW} acknowledged sends are kept in flight (default 32),
 * 256-byte payloads, rate budget raised so the limiter is not what is measured. All three nodes
 * share the machine's cores.
 */
public final class RelayBench {

    private static final String TOPIC = "bench";
    private static final byte[] PAYLOAD = new byte[256];

    private RelayBench() {
    }

    private static final class Node implements AutoCloseable {
        final Ed25519Identity identity;
        final WsTransportEngine transport;
        final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "router"));
        final ExecutorService callbacks = Executors.newCachedThreadPool(r -> daemon(r, "handlers"));
        MeshCore core;
        URI listening;
        final AtomicLong received = new AtomicLong();

        Node(String name) {
            identity = Ed25519Identity.ephemeral(NodeId.of(name));
            transport = new WsTransportEngine(WsSettings.defaults(), () -> Optional.of(name), System::nanoTime,
                    InstantSource.system());
        }

        void start(Set<String> trusted) throws Exception {
            core = new MeshCore(identity, RouterSettings.DEFAULTS.withTrustedKeys(trusted).withRateBudget(1_000_000)
                    .withQueueLimit(100_000), System::nanoTime, InstantSource.system(), scheduler, callbacks,
                    () -> ThreadLocalRandom.current().nextDouble());
            core.addTransport(transport, List.of("ws"));
            core.addHandler(m -> {
                received.incrementAndGet();
                return CompletableFuture.completedFuture(null);
            }, List.of(TOPIC));
            core.start();
            listening = core.listen(URI.create("ws://127.0.0.1:0/mesh")).get(10, TimeUnit.SECONDS);
        }

        void peer(Node other) {
            core.addPeer(new PeerConfig(other.identity.nodeId(), other.identity.nodeId().value(), List.of(other.listening),
                    Optional.of(other.identity.publicKeyBase64())));
        }

        @Override
        public void close() {
            core.close();
            transport.close();
            scheduler.shutdownNow();
            callbacks.shutdownNow();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        Node a = new Node("a");
        Node b = new Node("b");
        Node c = new Node("c");
        Set<String> trusted = Set.of(a.identity.publicKeyBase64(), b.identity.publicKeyBase64(), c.identity.publicKeyBase64());
        try {
            c.start(trusted);
            b.start(trusted);
            a.start(trusted);
            b.peer(c);
            a.peer(b);
            Route relayed = awaitRelay(a.core, c.identity.nodeId());
            System.out.printf("a -> c takes %s; window %d, %d-byte payloads, %d s per measurement%n", relayed, window,
                    PAYLOAD.length, seconds);
            NodeId toB = b.identity.nodeId();
            NodeId toC = c.identity.nodeId();
            measure(a.core, toB, window, Math.max(2, seconds / 2));
            measure(a.core, toC, window, Math.max(2, seconds / 2));
            List<Double> direct = new ArrayList<>();
            List<Double> relay = new ArrayList<>();
            System.out.printf("%-6s %16s %16s %8s%n", "round", "direct msgs/s", "relayed msgs/s", "ratio");
            for (int i = 1; i <= rounds; i++) {
                double d = measure(a.core, toB, window, seconds);
                double r = measure(a.core, toC, window, seconds);
                direct.add(d);
                relay.add(r);
                System.out.printf("%-6d %16.0f %16.0f %8.2f%n", i, d, r, r / d);
            }
            double d = median(direct);
            double r = median(relay);
            System.out.println("a: " + filtered(a.core, ""));
            System.out.println("b: " + filtered(b.core, ""));
            System.out.println("c: " + filtered(c.core, ""));
            System.out.printf("RESULT relay direct_msgs_per_s=%.0f relayed_msgs_per_s=%.0f ratio=%.2f%n", d, r, r / d);
        } finally {
            a.close();
            b.close();
            c.close();
        }
        System.exit(0);
    }

    private static String filtered(MeshCore core, String... prefixes) {
        StringBuilder sb = new StringBuilder();
        core.counters().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).forEach(e -> {
            for (String p : prefixes) {
                if (e.getKey().startsWith(p)) {
                    sb.append(e.getKey()).append('=').append(e.getValue()).append(' ');
                    break;
                }
            }
        });
        return sb.toString().trim();
    }

    private static Route awaitRelay(MeshCore a, NodeId c) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                DeliveryResult r = a.send(c, TOPIC, PAYLOAD, SendOptions.DEFAULT).get(10, TimeUnit.SECONDS);
                if (r.route().kind() == Route.Kind.RELAY) {
                    return r.route();
                }
                throw new IllegalStateException("a reaches c directly: " + r.route());
            } catch (java.util.concurrent.ExecutionException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("no relay route from a to c within 30 s", last);
    }

    /** Acknowledged sends per second to {@code target} with {@code window} in flight, for {@code seconds}. */
    private static double measure(MeshCore from, NodeId target, int window, int seconds) throws InterruptedException {
        Semaphore inFlight = new Semaphore(window);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        SendOptions options = SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(30));
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (!inFlight.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                continue;
            }
            from.send(target, TOPIC, PAYLOAD, options).whenComplete((r, e) -> {
                (e == null ? acked : failed).incrementAndGet();
                inFlight.release();
            });
        }
        long counted = acked.get();
        double elapsed = (System.nanoTime() - start) / 1e9;
        inFlight.acquire(window); // drain before the next measurement
        inFlight.release(window);
        if (failed.get() > 0) {
            System.out.printf("  (%d sends to %s failed)%n", failed.get(), target);
        }
        return counted / elapsed;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
