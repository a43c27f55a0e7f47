package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.testkit.LoopbackLink;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The process the crash test kills: an outbox with producers and the drain, sending to the test
 * JVM over a {@link LoopbackLink}. Prints {@code READY}, then {@code OK <payload>} after every
 * enqueue that returned, and {@code IDLE} whenever nothing is pending or in flight.
 *
 * <p>Arguments: database file, port, run number, producer count.
 */
public final class CrashChild {

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path db = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int run = Integer.parseInt(args[2]);
        int producers = Integer.parseInt(args[3]);
        NodeId a = NodeId.of("a");
        NodeId b = NodeId.of("b");
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        OutboxConfig config = OutboxConfig.defaults(db).withAckTimeout(Duration.ofSeconds(2)).withWindowPerTarget(64);
        OutboxService outbox = new OutboxService(config, InstantSource.system(), System::nanoTime, scheduler,
                () -> ThreadLocalRandom.current().nextDouble());
        outbox.setRouter(new LoopbackLink.ClientRouter(a, b, port));
        System.out.println("READY");
        System.out.flush();
        for (int t = 0; t < producers; t++) {
            int thread = t;
            Thread p = new Thread(() -> {
                for (int i = 0; ; i++) {
                    String payload = "r" + run + "-t" + thread + "-" + i;
                    outbox.enqueue(OutboxRequest.of(b, "orders", payload.getBytes(StandardCharsets.UTF_8)));
                    synchronized (System.out) {
                        System.out.println("OK " + payload);
                    }
                }
            }, "producer-" + t);
            p.setDaemon(true);
            p.start();
        }
        while (true) {
            OutboxStats s = outbox.stats();
            if (producers == 0 && s.count(OutboxState.PENDING) + s.count(OutboxState.INFLIGHT) == 0) {
                synchronized (System.out) {
                    System.out.println("IDLE " + s.count(OutboxState.DONE) + " " + s.count(OutboxState.DEAD));
                }
            }
            // Not synchronisation: this child only reports its state until the test kills it; the
            // test waits on the IDLE line (a condition), this pause just paces the report.
            Thread.sleep(100);
        }
    }
}
