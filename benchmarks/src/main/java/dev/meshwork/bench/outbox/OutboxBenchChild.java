package dev.meshwork.bench.outbox;

import dev.meshwork.testkit.LoopbackLink;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.outbox.sqlite.internal.OutboxConfig;
import dev.meshwork.outbox.sqlite.internal.OutboxService;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The sending process of the outbox benchmark: {@code e2e DB PORT N} enqueues N messages from
 * 16 producers while draining them to the receiver and prints {@code E2E N SECONDS};
 * {@code fill DB PORT N} enqueues N messages, starts draining and prints {@code DRAINING} (to be
 * killed); {@code drain DB PORT} drains what is left and prints {@code IDLE DONE DEAD}.
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
        Path db = Path.of(args[1]);
        int port = Integer.parseInt(args[2]);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        OutboxService outbox = new OutboxService(OutboxConfig.defaults(db), InstantSource.system(), System::nanoTime, scheduler,
                () -> ThreadLocalRandom.current().nextDouble());
        LoopbackLink.ClientRouter router = new LoopbackLink.ClientRouter(SENDER, RECEIVER, port);
        switch (mode) {
            case "e2e" -> {
                int n = Integer.parseInt(args[3]);
                outbox.setRouter(router);
                long t0 = System.nanoTime();
                produce(outbox, n);
                waitUntilDone(outbox, n);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.println("E2E " + n + " " + s);
            }
            case "fill" -> {
                int n = Integer.parseInt(args[3]);
                produce(outbox, n);
                System.out.println("FILLED");
                outbox.setRouter(router);
                while (outbox.deliveredCount() < 1000) {
                    Thread.sleep(1);
                }
                System.out.println("DRAINING");
            }
            case "drain" -> {
                OutboxStats before = outbox.stats();
                long left = before.count(OutboxState.PENDING) + before.count(OutboxState.INFLIGHT);
                outbox.setRouter(router);
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

    /** 16 producers, each with at most OUTSTANDING (default 64) enqueues outstanding, every one durable when it completes. */
    public static void produce(OutboxService outbox, int n) throws InterruptedException {
        Thread[] threads = new Thread[PRODUCERS];
        for (int t = 0; t < PRODUCERS; t++) {
            int thread = t;
            threads[t] = new Thread(() -> {
                Semaphore window = new Semaphore(OUTSTANDING);
                for (int i = thread; i < n; i += PRODUCERS) {
                    window.acquireUninterruptibly();
                    byte[] payload = new byte[PAYLOAD];
                    String id = "m" + i;
                    System.arraycopy(id.getBytes(), 0, payload, 0, id.length());
                    CompletableFuture<?> f = outbox.enqueueAsync(OutboxRequest.of(RECEIVER, "bench", payload));
                    f.whenComplete((r, e) -> {
                        window.release();
                        if (e != null) {
                            e.printStackTrace();
                        }
                    });
                }
                window.acquireUninterruptibly(OUTSTANDING);
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    static void waitUntilDone(OutboxService outbox, int n) throws InterruptedException {
        while (outbox.deliveredCount() < n) {
            Thread.sleep(5);
        }
    }
}
