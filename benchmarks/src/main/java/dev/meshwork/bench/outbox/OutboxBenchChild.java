package dev.meshwork.bench.outbox;

import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.outbox.sqlite.internal.OutboxService;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * A sending process of the outbox benchmark's recovery run: a real node ({@link MeshNode}) whose
 * outbox sends to the receiver process over the real Router and WebSocket transport.
 *
 * <pre>
 *   fill  DB IDENTITY_DIR RECEIVER_KEY RECEIVER_URL N   enqueue N, start draining, print DRAINING (to be killed)
 *   drain DB IDENTITY_DIR RECEIVER_KEY RECEIVER_URL     drain what is left, print IDLE DONE DEAD
 * </pre>
 */
public final class OutboxBenchChild {

    public static final NodeId SENDER = NodeId.of("sender");
    public static final NodeId RECEIVER = NodeId.of("receiver");
    public static final int PRODUCERS = 16;
    public static final int PAYLOAD = 100;
    public static final int OUTSTANDING = Integer.getInteger("outstanding", 64);

    private OutboxBenchChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        MeshNode node = new MeshNode(Path.of(args[2]), NodeId.of("filler"), Set.of(), Path.of(args[1]));
        OutboxService outbox = node.outbox;
        switch (mode) {
            case "fill" -> {
                int n = Integer.parseInt(args[5]);
                produce(outbox, n, null);
                System.out.println("FILLED");
                connect(node, args[3], args[4]);
                while (outbox.deliveredCount() < 1000) {
                    Thread.sleep(1);
                }
                System.out.println("DRAINING");
            }
            case "drain" -> {
                OutboxStats before = outbox.stats();
                long left = before.count(OutboxState.PENDING) + before.count(OutboxState.INFLIGHT);
                connect(node, args[3], args[4]);
                while (outbox.deliveredCount() < left) {
                    Thread.sleep(5);
                }
                while (true) {
                    OutboxStats st = outbox.stats();
                    if (st.count(OutboxState.PENDING) + st.count(OutboxState.INFLIGHT) == 0) {
                        System.out.println("IDLE " + st.count(OutboxState.DONE) + " " + st.count(OutboxState.DEAD));
                        break;
                    }
                    Thread.sleep(20);
                }
            }
            default -> throw new IllegalArgumentException(mode);
        }
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /** Adds the receiver as a peer (the drain starts when its link comes up). */
    public static void connect(MeshNode node, String receiverKey, String receiverUrl) {
        node.attachOutbox();
        node.core.addPeer(new PeerConfig(RECEIVER, RECEIVER.value(), List.of(URI.create(receiverUrl)), Optional.of(receiverKey)));
    }

    /** Whether the link to the receiver is up. */
    public static boolean up(MeshNode node) {
        return node.core.peer(RECEIVER).map(p -> p.state() == LinkState.UP).orElse(false);
    }

    /**
     * 16 producers, each with at most OUTSTANDING (default 64) enqueues outstanding, every one
     * durable when it completes; payloads start with {@code prefix + i}.
     */
    public static void produce(OutboxService outbox, int n, String prefix) throws InterruptedException {
        Thread[] threads = new Thread[PRODUCERS];
        for (int t = 0; t < PRODUCERS; t++) {
            int thread = t;
            threads[t] = new Thread(() -> {
                Semaphore window = new Semaphore(OUTSTANDING);
                for (int i = thread; i < n; i += PRODUCERS) {
                    window.acquireUninterruptibly();
                    byte[] payload = new byte[PAYLOAD];
                    byte[] id = ((prefix == null ? "m" : prefix) + i).getBytes(StandardCharsets.ISO_8859_1);
                    System.arraycopy(id, 0, payload, 0, id.length);
                    CompletableFuture<?> f = outbox.enqueueAsync(OutboxRequest.of(RECEIVER, "bench", payload));
                    f.whenComplete((r, e) -> {
                        window.release();
                        if (e != null) {
                            e.printStackTrace();
                        }
                    });
                }
                window.acquireUninterruptibly(OUTSTANDING);
                ThreadCpu.PRODUCERS.addAndGet(java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}
