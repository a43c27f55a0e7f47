package dev.meshwork.console.internal;

import com.sun.net.httpserver.HttpExchange;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxReceipt;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code POST /send?target=NODE&topic=TOPIC} (best effort through the Router, waits for the ack)
 * and {@code POST /outbox?target=NODE&topic=TOPIC[&key=IDEMPOTENCY_KEY]} (durable), with the
 * request body as payload. Answers JSON; a typed failure becomes 4xx (permanent) or 503
 * (retryable) with its code.
 *
 * <p><b>Starting and stopping</b> (docs/lifecycle.md): while the node is not ready (no router,
 * or a router that does not hold its configured peers yet) or is stopping, both answer 503 with
 * {@code Retry-After} before touching the router or the outbox, so a configured peer is never
 * answered 422 {@code UNKNOWN_PEER}. Every 503 carries {@code Retry-After}.
 */
final class SendEndpoints {

    private static final int MAX_BODY = 1 << 20;

    /** Seconds a client is told to wait before it tries again (503). */
    static final int RETRY_AFTER_SECONDS = 1;

    private final Supplier<Router> router;
    private final Supplier<Outbox> outbox;
    private final BooleanSupplier stopping;

    SendEndpoints(Supplier<Router> router, Supplier<Outbox> outbox, BooleanSupplier stopping) {
        this.router = router;
        this.outbox = outbox;
        this.stopping = stopping;
    }

    /**
     * The router if the node can take a message now; otherwise answers 503 with Retry-After and
     * returns null.
     */
    private Router ready(HttpExchange exchange) throws IOException {
        Router r = router.get();
        if (stopping.getAsBoolean()) {
            error(exchange, 503, "SHUT_DOWN", "the node is stopping");
            return null;
        }
        if (r == null) {
            error(exchange, 503, "SHUT_DOWN", "no router in this node (starting, stopping or being updated)");
            return null;
        }
        if (!r.isReady()) {
            error(exchange, 503, "UNREACHABLE_PEER", "the node is starting: its peer configuration is not applied yet");
            return null;
        }
        return r;
    }

    void send(HttpExchange exchange) throws IOException {
        Request request = parse(exchange);
        if (request == null) {
            return;
        }
        Router r = ready(exchange);
        if (r == null) {
            return;
        }
        try {
            DeliveryResult result = r.send(request.target, request.topic, request.payload, SendOptions.DEFAULT)
                    .get(SendOptions.DEFAULT.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("messageId", result.messageId());
            doc.put("route", result.route().toString());
            doc.put("acknowledged", result.acknowledged());
            doc.put("elapsedMillis", result.elapsed().toNanos() / 1e6);
            NodeConsole.respond(exchange, "application/json", Json.write(doc));
        } catch (ExecutionException e) {
            failure(exchange, e.getCause());
        } catch (TimeoutException e) {
            error(exchange, 504, "TIMEOUT", "no answer in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(exchange, 503, "SHUT_DOWN", "interrupted");
        } catch (RuntimeException e) {
            failure(exchange, e);
        }
    }

    void enqueue(HttpExchange exchange) throws IOException {
        Request request = parse(exchange);
        if (request == null) {
            return;
        }
        if (ready(exchange) == null) {
            return;
        }
        Outbox o = outbox.get();
        if (o == null) {
            error(exchange, 503, "SHUT_DOWN", "no outbox in this node");
            return;
        }
        try {
            OutboxRequest enqueue = OutboxRequest.of(request.target, request.topic, request.payload);
            if (request.key != null) {
                enqueue = enqueue.withIdempotencyKey(request.key);
            }
            OutboxReceipt receipt = o.enqueue(enqueue);
            NodeConsole.respond(exchange, "application/json",
                    Json.write(Map.of("messageId", receipt.messageId(), "duplicate", receipt.duplicate())));
        } catch (RuntimeException e) {
            failure(exchange, e);
        }
    }

    private record Request(NodeId target, String topic, String key, byte[] payload) {
    }

    private static Request parse(HttpExchange exchange) throws IOException {
        if (!"POST".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "POST");
            error(exchange, 405, "ILLEGAL_STATE", "use POST");
            return null;
        }
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        String target = query.get("target");
        String topic = query.get("topic");
        if (target == null || !NodeId.isValid(target) || topic == null || topic.isEmpty()) {
            error(exchange, 400, "MALFORMED_URL", "needs ?target=NODE&topic=TOPIC with a valid node id");
            return null;
        }
        byte[] payload = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (payload.length > MAX_BODY) {
            error(exchange, 413, "PAYLOAD_TOO_LARGE", "the console accepts at most " + MAX_BODY + " bytes");
            return null;
        }
        return new Request(NodeId.of(target), topic, query.get("key"), payload);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> result = new HashMap<>();
        if (raw == null) {
            return result;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                result.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return result;
    }

    private static void failure(HttpExchange exchange, Throwable cause) throws IOException {
        if (cause instanceof MeshworkException m) {
            error(exchange, m.isRetryable() ? 503 : 422, m.code().name(), String.valueOf(m.getMessage()));
        } else if (cause instanceof IllegalArgumentException) {
            error(exchange, 400, "ILLEGAL_STATE", String.valueOf(cause.getMessage()));
        } else {
            error(exchange, 500, "INTERNAL", String.valueOf(cause));
        }
    }

    private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
        if (status == 503) {
            exchange.getResponseHeaders().set("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
        }
        NodeConsole.respond(exchange, status, "application/json", Json.write(Map.of("error", message, "code", code)));
    }
}
