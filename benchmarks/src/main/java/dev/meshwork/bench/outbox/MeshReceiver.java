package dev.meshwork.bench.outbox;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.InboundMessage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receiving process of the outbox benchmark: a real node ({@link MeshNode}: Router over
 * WebSocket, outbox inbox) listening on a loopback port, with an application handler on topic
 * {@code bench} that counts each message id (the first 12 bytes of the payload).
 *
 * <pre>
 *   IDENTITY_DIR DATABASE PORT TRUSTED_KEY...
 * </pre>
 *
 * Prints {@code READY} once listening; answers {@code STATS} on stdin with
 * {@code STATS received=N duplicates=N inbox=...}; {@code RESET} forgets the counts.
 */
public final class MeshReceiver {

    private MeshReceiver() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        AtomicLong duplicates = new AtomicLong();
        MeshNode node = new MeshNode(Path.of(args[0]), OutboxBenchChild.RECEIVER, Set.of(java.util.Arrays.copyOfRange(args, 3, args.length)),
                Path.of(args[1]));
        node.attachOutbox();
        node.handle("bench", (InboundMessage m) -> {
            String id = new String(m.payload(), 0, 12, StandardCharsets.ISO_8859_1).trim();
            if (seen.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() > 1) {
                duplicates.incrementAndGet();
            }
            return CompletableFuture.completedFuture(null);
        });
        node.core.listen(URI.create("ws://127.0.0.1:" + args[2] + "/mesh")).join();
        say("READY");
        ThreadCpu[] mark = {ThreadCpu.now()};
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            switch (line) {
                case "STATS" -> say("STATS received=" + seen.size() + " duplicates=" + duplicates.get()
                        + " inbox=" + node.outbox.inboxCounters().toString().replace(' ', '_')
                        + " router=" + node.core.counters().toString().replace(' ', '_')
                        + " writer=" + (node.outbox.writerCounters() + "" + node.outbox.writerTimings()).replace(' ', '_'));
                case "MARK" -> {
                    mark[0] = ThreadCpu.now();
                    say("MARK");
                }
                case "CPU" -> say("CPU " + ThreadCpu.now().since(mark[0], seen.size()));
                case "RESET" -> {
                    seen.clear();
                    duplicates.set(0);
                    say("RESET");
                }
                default -> say("UNKNOWN " + line);
            }
        }
        node.close();
        System.exit(0);
    }

    static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
