package dev.meshwork.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.annotation.Annotation;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The console over a real loopback socket, in a node that has none of the optional services. */
class NodeConsoleTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private NodeConsole console;

    static ConsoleConfig config(String address, int port) {
        return new ConsoleConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ConsoleConfig.class;
            }

            @Override
            public String address() {
                return address;
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public int pushIntervalMillis() {
                return 100;
            }
        };
    }

    @BeforeEach
    void start() throws Exception {
        console = newConsole();
        console.activate(config("127.0.0.1", 0));
    }

    /** A console as DS would build it, with its probe inbox bound. */
    static NodeConsole newConsole() throws Exception {
        NodeConsole c = new NodeConsole();
        java.lang.reflect.Field probe = NodeConsole.class.getDeclaredField("probeInbox");
        probe.setAccessible(true);
        probe.set(c, new ProbeInbox());
        return c;
    }

    @Test
    void sendingWithoutARouterOrOutboxIsA503WithATypedCode() throws Exception {
        HttpResponse<String> send = http.send(HttpRequest.newBuilder(console.uri().resolve("/send?target=beta&topic=t"))
                .POST(HttpRequest.BodyPublishers.ofString("hi")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, send.statusCode());
        assertTrue(send.body().contains("\"code\":\"SHUT_DOWN\""), send.body());
        HttpResponse<String> bad = http.send(HttpRequest.newBuilder(console.uri().resolve("/outbox?target=not%20a%20node&topic=t"))
                .POST(HttpRequest.BodyPublishers.ofString("hi")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode());
        assertEquals(405, get("/send?target=beta&topic=t").statusCode());
    }

    @Test
    void theProbeInboxCountsDeliveriesAndDistinctIds() throws Exception {
        ProbeInbox probe = new ProbeInbox();
        for (String id : new String[] {"m1", "m2", "m1"}) {
            probe.onMessage(new dev.meshwork.api.router.InboundMessage(id, dev.meshwork.api.NodeId.of("beta"), ProbeInbox.TOPIC,
                    new byte[3], Map.of(), java.util.Optional.empty(), java.time.Instant.now()));
        }
        assertEquals(3L, probe.summary().get("deliveries"));
        assertEquals(2, probe.summary().get("distinct"));
        assertTrue(get("/status.json").body().contains("\"probe\":{\"topic\":\"meshwork.console.probe\""));
    }

    @AfterEach
    void stop() {
        console.deactivate();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(console.uri().resolve(path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheStatusDocumentEvenWithoutOptionalServices() throws Exception {
        HttpResponse<String> response = get("/status.json");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertTrue(response.body().startsWith("{\"at\":\"") && response.body().contains("\"gateways\":[]"), response.body());
    }

    @Test
    void servesPrometheusTextAndTheDashboard() throws Exception {
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        HttpResponse<String> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("new EventSource(\"/events\")"), "the dashboard updates live");
        assertEquals(404, get("/nothing-here").statusCode());
    }

    @Test
    void pushesTheStatusAsServerSentEvents() throws Exception {
        HttpResponse<java.io.InputStream> response = http.send(
                HttpRequest.newBuilder(console.uri().resolve("/events")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            int events = 0;
            String line;
            while (events < 2 && (line = reader.readLine()) != null) {
                if (line.startsWith("data: {")) {
                    events++;
                }
            }
            assertEquals(2, events, "two pushes arrive on one stream");
        }
    }

    @Test
    void aPortInUseIsAOneLineErrorNamingTheSetting() throws Exception {
        NodeConsole second = newConsole();
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> second.activate(config("127.0.0.1", console.uri().getPort())));
        assertTrue(e.getMessage().contains("console.port"), e.getMessage());
    }

    @Test
    void jsonEscapesQuotesControlCharactersAndMarkup() {
        assertEquals("{\"a\":\"x\\\"y\\n\\u003c/script\\u003e\",\"n\":[1,2.5,null,true]}",
                Json.write(Map.of("a", "x\"y\n</script>")).replace("}", "") + ",\"n\":" + Json.write(java.util.Arrays.asList(1, 2.5, null, true)) + "}");
    }

    @Test
    void consoleCanBeTurnedOff() throws Exception {
        NodeConsole off = newConsole();
        off.activate(config("127.0.0.1", -1));
        assertEquals(null, off.uri());
        off.deactivate();
    }

}
