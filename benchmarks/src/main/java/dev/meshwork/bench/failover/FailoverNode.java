package dev.meshwork.bench.failover;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.ws.internal.WsSettings;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One node of the failover benchmark, run as its own process with default router settings.
 *
 * <pre>
 *   b IDENTITY_DIR TRUSTED_KEY PORT1 PORT2     receiver: counts messages and duplicates
 *   a IDENTITY_DIR B_ID B_KEY URL1 URL2        sender: streams acknowledged messages to b
 * </pre>
 *
 * Talks to the harness by lines: stdin commands STATUS, STATS, STOP; stdout EVENT, FLOW, STATUS,
 * STATS, DONE. Times are {@code System.nanoTime()}, which on Linux is CLOCK_MONOTONIC and so
 * comparable between processes.
 */
public final class FailoverNode {

    private FailoverNode() {
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        if (role.equals("burn")) {
            burn(Integer.parseInt(args[1]));
            return;
        }
        Ed25519Identity identity = Ed25519Identity.loadOrCreate(Path.of(args[1]), Optional.of(NodeId.of(role)));
        Set<String> trusted = role.equals("b") ? Set.of(args[2]) : Set.of();
        // The real WebSocket transport with its default settings: its own liveness (5 s ping, 15 s
        // stale) is far slower than the router's, so what is measured is the router's detection.
        WsTransportEngine transport = new WsTransportEngine(WsSettings.defaults(), () -> Optional.of(role), System::nanoTime,
                InstantSource.system());
        MeshCore core = new MeshCore(identity, RouterSettings.DEFAULTS.withTrustedKeys(trusted), System::nanoTime,
                InstantSource.system(), Executors.newSingleThreadScheduledExecutor(), Executors.newCachedThreadPool(),
                () -> ThreadLocalRandom.current().nextDouble());
        core.addTransport(transport, List.of("ws"));
        core.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        if (role.equals("b")) {
            Set<String> seen = ConcurrentHashMap.newKeySet();
            AtomicLong duplicates = new AtomicLong();
            core.addHandler(m -> {
                if (!seen.add(m.messageId())) {
                    duplicates.incrementAndGet();
                }
                return CompletableFuture.completedFuture(null);
            }, List.of("bench"));
            core.listen(URI.create("ws://127.0.0.1:" + args[3] + "/mesh")).join();
            core.listen(URI.create("ws://127.0.0.1:" + args[4] + "/mesh")).join();
            say("READY");
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("STATS")) {
                    say("STATS received=" + seen.size() + " duplicates=" + duplicates.get());
                }
            }
            return;
        }
        NodeId b = NodeId.of(args[2]);
        core.addListener(e -> {
            if (e.type() == PeerEvent.Type.ACTIVE_CHANNEL_CHANGED || e.type() == PeerEvent.Type.CHANNEL_DOWN) {
                say("EVENT " + System.nanoTime() + " " + e.type() + " " + e.detail().replace('\n', ' '));
            }
        });
        core.addPeer(new PeerConfig(b, "b", List.of(URI.create(args[4]), URI.create(args[5])), Optional.of(args[3])));
        AtomicLong sent = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<URI> lastChannel = new AtomicReference<>();
        AtomicReference<String> lastFailure = new AtomicReference<>("");
        Thread streamer = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                long n = sent.incrementAndGet();
                core.send(b, "bench", ("m" + n).getBytes(), SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(60)))
                        .whenComplete((r, e) -> {
                            if (e != null) {
                                failed.incrementAndGet();
                                lastFailure.set(String.valueOf(e));
                                return;
                            }
                            acked.incrementAndGet();
                            URI ch = r.route().channel().orElse(null);
                            URI before = lastChannel.getAndSet(ch);
                            if (before != null && ch != null && !ch.equals(before)) {
                                say("FLOW " + System.nanoTime() + " " + ch);
                            }
                        });
                try {
                    Thread.sleep(2);
                } catch (InterruptedException ex) {
                    return;
                }
            }
        }, "streamer");
        for (String line; (line = in.readLine()) != null; ) {
            switch (line) {
                case "START" -> streamer.start();
                case "STATUS" -> {
                    PeerInfo p = core.peer(b).orElseThrow();
                    long open = p.channels().stream().filter(c -> c.state() == dev.meshwork.api.router.ChannelState.OPEN).count();
                    say("STATUS open=" + open + " active=" + p.activeChannel().map(c -> c.uri().toString()).orElse("-"));
                }
                case "STOP" -> {
                    streamer.interrupt();
                    streamer.join();
                    long deadline = System.nanoTime() + Duration.ofSeconds(70).toNanos();
                    while (acked.get() + failed.get() < sent.get() && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    say("DONE sent=" + sent.get() + " acked=" + acked.get() + " failed=" + failed.get()
                            + " counters=" + core.counters().toString().replace(' ', '_') + " lastFailure=" + lastFailure.get().replace(' ', '_'));
                }
                default -> say("UNKNOWN " + line);
            }
        }
    }

    /** Saturates {@code threads} cores until killed: the "busy machine" of the false-failover run. */
    private static void burn(int threads) throws InterruptedException {
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (true) {
                    x += System.nanoTime() % 7;
                    if (x == 42) {
                        System.out.print("");
                    }
                }
            });
            t.start();
        }
        Thread.currentThread().join();
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
