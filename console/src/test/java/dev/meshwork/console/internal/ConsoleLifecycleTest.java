package dev.meshwork.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.router.Router;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console's half of the lifecycle contract: while the node starts (its router does not hold
 * the configured peers yet) or stops, {@code POST /outbox} and {@code POST /send} answer 503 with
 * {@code Retry-After} and never reach the outbox or the router; a configured peer is never 422.
 */
class ConsoleLifecycleTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicInteger enqueues = new AtomicInteger();
    private final AtomicInteger sends = new AtomicInteger();
    private NodeConsole console;

    /** A router whose readiness the test sets; it knows no peer at all, like one before its configuration. */
    private Router router() {
        return (Router) Proxy.newProxyInstance(Router.class.getClassLoader(), new Class<?>[] {Router.class},
                (p, m, args) -> switch (m.getName()) {
                    case "isReady" -> ready.get();
                    case "peer" -> Optional.empty();
                    case "send" -> {
                        sends.incrementAndGet();
                        throw new PermanentException(FailureCode.UNKNOWN_PEER, "unknown peer " + args[0]);
                    }
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    /** An outbox that refuses every target as the outbox does for one its router does not know. */
    private Outbox outbox() {
        return (Outbox) Proxy.newProxyInstance(Outbox.class.getClassLoader(), new Class<?>[] {Outbox.class},
                (p, m, args) -> {
                    if (m.getName().equals("enqueue")) {
                        enqueues.incrementAndGet();
                        throw new PermanentException(FailureCode.UNKNOWN_PEER, "target is not a known peer");
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private static void set(NodeConsole c, String field, Object value) throws Exception {
        Field f = NodeConsole.class.getDeclaredField(field);
        f.setAccessible(true);
        f.set(c, value);
    }

    @BeforeEach
    void start() throws Exception {
        console = NodeConsoleTest.newConsole();
        set(console, "router", router());
        set(console, "outbox", outbox());
        console.stopping = stopping::get;
        console.activate(NodeConsoleTest.config("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        console.deactivate();
    }

    private HttpResponse<String> post(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(console.uri().resolve(path)).timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString("hi")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertTryAgainLater(HttpResponse<String> r, String code) {
        assertEquals(503, r.statusCode(), r.body());
        assertEquals(String.valueOf(SendEndpoints.RETRY_AFTER_SECONDS), r.headers().firstValue("Retry-After").orElse("none"));
        assertTrue(r.body().contains("\"code\":\"" + code + "\""), r.body());
    }

    @Test
    void whileTheNodeStartsEnqueueAndSendAnswer503WithRetryAfterNever422() throws Exception {
        assertTryAgainLater(post("/outbox?target=beta&topic=t"), "UNREACHABLE_PEER");
        assertTryAgainLater(post("/send?target=beta&topic=t"), "UNREACHABLE_PEER");
        assertEquals(0, enqueues.get(), "the outbox was not asked while the configuration is being applied");
        assertEquals(0, sends.get());
    }

    @Test
    void whileTheNodeStopsEnqueueAndSendAnswer503WithRetryAfter() throws Exception {
        ready.set(true);
        stopping.set(true);
        assertTryAgainLater(post("/outbox?target=beta&topic=t"), "SHUT_DOWN");
        assertTryAgainLater(post("/send?target=beta&topic=t"), "SHUT_DOWN");
        assertEquals(0, enqueues.get());
    }

    @Test
    void onceReadyATargetTheNodeIsNotConfiguredWithIsRefusedAs422() throws Exception {
        ready.set(true);
        HttpResponse<String> r = post("/outbox?target=" + NodeId.of("nobody").value() + "&topic=t");
        assertEquals(422, r.statusCode());
        assertTrue(r.body().contains("\"code\":\"UNKNOWN_PEER\""), r.body());
        assertEquals(1, enqueues.get());
    }

    @Test
    void aScheduledPushWhoseDocumentFailsIsCountedAndTheStreamKeepsPushing() throws Exception {
        java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
        AtomicInteger runs = new AtomicInteger();
        dev.meshwork.testkit.ManualTime time = new dev.meshwork.testkit.ManualTime();
        time.scheduleWithFixedDelay(new GuardedTask("test push", failures, () -> {
            if (runs.incrementAndGet() == 2) {
                throw new IllegalStateException("the snapshot failed once");
            }
        }), 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        time.advance(Duration.ofMillis(400));
        assertEquals(5, runs.get(), "kept running after the failure");
        assertEquals(1, failures.get());
        assertTrue(time.failures().isEmpty());
    }
}
