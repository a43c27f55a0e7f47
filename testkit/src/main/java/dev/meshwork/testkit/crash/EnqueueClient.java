package dev.meshwork.testkit.crash;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client that enqueues through a node's console, {@code POST /outbox?target=T&topic=T[&key=K]},
 * the way the outbox contract asks: it retries what was certainly not enqueued (503, connection
 * refused) and, when it has an idempotency key, also what may have been (no answer, a reset);
 * without a key it gives such a message up (retrying it could enqueue it twice).
 *
 * <p>Only an answer 2xx counts as accepted: its message id goes into {@link #accepted} and must
 * be delivered. Every other answer is counted by status for the report.
 */
final class EnqueueClient implements Runnable {

    private static final Pattern MESSAGE_ID = Pattern.compile("\"messageId\":\"([^\"]+)\"");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final PackagedNode sender;
    private final String target;
    private final boolean keyed;
    private final long pauseMillis;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile boolean running = true;

    /** message id → the client's message name, for every accepted enqueue. */
    final Map<String, String> accepted;
    /** answers by kind: "200", "503", "422", "down" (no console yet), "refused", "reset", "timeout", … */
    final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
    /** System.nanoTime() of the latest accepted enqueue, shared by all clients. */
    private final AtomicLong lastAccepted;
    private int sequence;

    EnqueueClient(String name, PackagedNode sender, String target, boolean keyed, long pauseMillis, Map<String, String> accepted,
            AtomicLong lastAccepted) {
        this.name = name;
        this.sender = sender;
        this.target = target;
        this.keyed = keyed;
        this.pauseMillis = pauseMillis;
        this.accepted = accepted;
        this.lastAccepted = lastAccepted;
    }

    void stop() {
        running = false;
    }

    @Override
    public void run() {
        try {
            while (running) {
                String message = name + "-" + (++sequence);
                send(message);
                Thread.sleep(pauseMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(String message) throws InterruptedException {
        while (running) {
            URI console = sender.console();
            if (console == null) {
                count("down");
                Thread.sleep(50);
                continue;
            }
            String query = "outbox?target=" + target + "&topic=" + CrashProbe.TOPIC + (keyed ? "&key=" + message : "");
            HttpResponse<String> response;
            try {
                response = http.send(HttpRequest.newBuilder(console.resolve(query)).timeout(REQUEST_TIMEOUT)
                        .POST(HttpRequest.BodyPublishers.ofString(message)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                count("refused");
                Thread.sleep(50);
                continue;
            } catch (HttpTimeoutException e) {
                count("timeout");
                if (keyed) {
                    continue;
                }
                return;
            } catch (IOException e) {
                count("reset");
                if (keyed) {
                    Thread.sleep(50);
                    continue;
                }
                return;
            }
            int status = response.statusCode();
            count(String.valueOf(status));
            if (status / 100 == 2) {
                Matcher m = MESSAGE_ID.matcher(response.body());
                if (!m.find()) {
                    throw new IllegalStateException("an accepted enqueue without a message id: " + response.body());
                }
                accepted.put(m.group(1), message);
                lastAccepted.accumulateAndGet(System.nanoTime(), Math::max);
                return;
            }
            if (status == 503) {
                long wait = response.headers().firstValueAsLong("Retry-After").orElse(0) * 1000;
                Thread.sleep(Math.max(50, Math.min(wait, 1000)));
                continue;
            }
            return; // any other answer: not accepted, and not retried (a 4xx is permanent by contract)
        }
    }

    private void count(String kind) {
        answers.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }
}
