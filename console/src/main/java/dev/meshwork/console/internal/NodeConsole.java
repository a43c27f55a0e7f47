package dev.meshwork.console.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.meshwork.api.health.HealthView;
import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.router.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the node's console over HTTP: {@code /} the live dashboard, {@code /status.json} the
 * status document, {@code /events} the same document pushed as server-sent events,
 * {@code /metrics} in Prometheus text format, and {@code POST /send} and {@code POST /outbox} to
 * send a message from this node (see {@link SendEndpoints}).
 *
 * <p>Every service it shows is an optional, dynamic reference: the console works in a custom
 * distribution without an outbox or a supervisor, and follows bundles that stop and come back.
 * The JDK's own HTTP server is enough for a loopback console and adds no dependency.
 */
@Component(service = NodeConsole.class, immediate = true, configurationPid = "dev.meshwork.console",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ConsoleConfig.class)
public final class NodeConsole {

    private static final Logger LOG = LoggerFactory.getLogger(NodeConsole.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile Router router;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile Outbox outbox;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HealthView health;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private final List<LifecycleController> gateways = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeIdentity identity;

    @Reference
    private ProbeInbox probeInbox;

    private HttpServer server;
    private ExecutorService handlers;
    private ScheduledExecutorService pusher;
    private URI uri;
    /** Whether the node is on its way down; replaced by tests. */
    BooleanSupplier stopping = NodeConsole::frameworkStopping;
    private final AtomicLong taskFailures = new AtomicLong();

    @Activate
    void activate(ConsoleConfig config) throws IOException {
        if (config.port() < 0) {
            LOG.info("node console turned off (port -1)");
            return;
        }
        try {
            server = HttpServer.create(new InetSocketAddress(config.address(), config.port()), 64);
        } catch (IOException e) {
            throw new IOException("console port " + config.address() + ":" + config.port()
                    + " cannot be bound (" + e.getMessage() + "); set console.port", e);
        }
        AtomicInteger threads = new AtomicInteger();
        handlers = Executors.newFixedThreadPool(4, r -> named(r, "meshwork-console-" + threads.incrementAndGet()));
        pusher = Executors.newSingleThreadScheduledExecutor(r -> named(r, "meshwork-console-push"));
        server.setExecutor(handlers);
        server.createContext("/status.json", exchange -> respond(exchange, "application/json",
                Json.write(snapshot().toDocument(Instant.now()))));
        server.createContext("/metrics", exchange -> respond(exchange, "text/plain; version=0.0.4; charset=utf-8",
                PrometheusMetrics.render(snapshot())
                        + "# HELP meshwork_console_task_failures_total Scheduled console tasks that failed (logged; they keep running).\n"
                        + "# TYPE meshwork_console_task_failures_total counter\n"
                        + "meshwork_console_task_failures_total " + taskFailures.get() + "\n"));
        server.createContext("/events", exchange -> new EventStream(exchange, pusher, config.pushIntervalMillis(),
                () -> Json.write(snapshot().toDocument(Instant.now())), taskFailures).start());
        SendEndpoints send = new SendEndpoints(() -> router, () -> outbox, () -> stopping.getAsBoolean());
        server.createContext("/send", send::send);
        server.createContext("/outbox", send::enqueue);
        server.createContext("/", this::dashboard);
        server.start();
        InetSocketAddress bound = server.getAddress();
        uri = URI.create("http://" + hostForUri(config.address()) + ":" + bound.getPort() + "/");
        LOG.info("node console at {}", uri);
    }

    @Deactivate
    void deactivate() {
        if (server != null) {
            server.stop(0);
            pusher.shutdownNow();
            handlers.shutdownNow();
            try {
                handlers.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether this bundle or the framework is stopping (false outside a framework). */
    static boolean frameworkStopping() {
        Bundle own = FrameworkUtil.getBundle(NodeConsole.class);
        if (own == null) {
            return false;
        }
        if (own.getState() == Bundle.STOPPING) {
            return true;
        }
        BundleContext context = own.getBundleContext();
        try {
            return context == null || context.getBundle(0).getState() == Bundle.STOPPING;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** Scheduled console tasks that failed so far (each logged; they keep running). */
    long taskFailures() {
        return taskFailures.get();
    }

    /** Where the console serves, once active. */
    public URI uri() {
        return uri;
    }

    NodeSnapshot snapshot() {
        return new NodeSnapshot(router, identity, outbox, health, List.copyOf(gateways), probeInbox);
    }

    private void dashboard(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (!path.equals("/") && !path.equals("/index.html")) {
            respond(exchange, 404, "text/plain", "not found");
            return;
        }
        try (InputStream in = NodeConsole.class.getResourceAsStream("dashboard.html")) {
            respond(exchange, 200, "text/html; charset=utf-8", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static void respond(HttpExchange exchange, String type, String body) throws IOException {
        respond(exchange, 200, type, body);
    }

    static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String hostForUri(String address) {
        return address.contains(":") ? "[" + address + "]" : address;
    }

    private static Thread named(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
