package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.FreezableProxy;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The dashboard in a real browser: three packaged nodes as processes, each listening on two
 * ports behind proxies the test can freeze; alpha's active channel to beta is black-holed, alpha
 * fails over to its standby channel, and Debian's headless Chromium (driven by playwright-core from npm through
 * {@code src/test/browser/dashboard.cjs}) loads alpha's dashboard and reports what the page shows,
 * read from the DOM after the live update rendered it. A full-page screenshot is written to
 * {@code target/dashboard-after-failover.png}.
 */
class DashboardBrowserIT {

    private static final Path JAVA = NodeProcess.javaExecutables().get(0);
    private static final Path CHROMIUM = Path.of(System.getProperty("meshwork.chromium", "/usr/bin/chromium"));
    private static final Path BROWSER_SOURCES = Path.of("src", "test", "browser").toAbsolutePath();
    private static final Path BROWSER_DIR = Path.of("target", "browser").toAbsolutePath();
    private static final Path SCREENSHOT = Path.of("target", "dashboard-after-failover.png").toAbsolutePath();
    private static final int BEFORE = 20;
    private static final int DURING = 30;

    @TempDir
    Path root;

    private final List<MeshNode> nodes = new ArrayList<>();
    private final List<FreezableProxy> proxies = new ArrayList<>();
    /** Proxy by its own port (alpha dialled it) and by the listen port it fronts (alpha was dialled through it). */
    private final Map<Integer, FreezableProxy> proxyByPort = new HashMap<>();

    @BeforeAll
    static void installPlaywright() throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM), "Debian's chromium is needed at " + CHROMIUM
                + " (apt-get install -y chromium; .ci/run installs it)");
        Files.createDirectories(BROWSER_DIR);
        for (String file : List.of("package.json", "dashboard.cjs")) {
            Files.copy(BROWSER_SOURCES.resolve(file), BROWSER_DIR.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        String wanted = pinnedPlaywrightVersion();
        Path installed = BROWSER_DIR.resolve("node_modules/playwright-core/package.json");
        if (!Files.exists(installed) || !Files.readString(installed).contains("\"version\": \"" + wanted + "\"")) {
            // playwright-core has no dependencies and downloads nothing: the browser is Debian's.
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--no-package-lock",
                    "--prefix", BROWSER_DIR.toString()).redirectErrorStream(true).start();
            String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(npm.waitFor(180, TimeUnit.SECONDS) && npm.exitValue() == 0, "npm install playwright-core failed: " + output);
        }
    }

    private static String pinnedPlaywrightVersion() throws IOException {
        Map<String, Object> pkg = new Yaml().load(Files.readString(BROWSER_SOURCES.resolve("package.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> deps = (Map<String, Object>) pkg.get("dependencies");
        return String.valueOf(deps.get("playwright-core"));
    }

    @AfterEach
    void stopAll() {
        proxies.forEach(FreezableProxy::thaw); // a frozen link would hold up the nodes' clean close
        for (MeshNode node : nodes) {
            try {
                node.stop(); // clean stop: the supervised gateway goes with it
            } catch (Throwable e) {
                node.kill();
            }
        }
        proxies.forEach(FreezableProxy::close);
    }

    @Test
    void dashboardShowsTheFailoverToTheStandbyChannelAndTheDrainedOutbox() throws Exception {
        MeshNode alpha = node("alpha");
        MeshNode beta = node("beta");
        MeshNode gamma = node("gamma");
        // health on its shipped defaults: a catch-up lost at start-up is asked for again within
        // the catch-up backoff, not at the 30 s anti-entropy pace
        alpha.extraYaml("gateways:\n  sleeper:\n    command: /bin/sleep\n    args: [\"300\"]\n");
        for (MeshNode node : nodes) {
            node.createIdentity(JAVA);
        }
        // beta accepts alpha by key but never dials it: every channel between the two is alpha's,
        // through beta's proxies, so the frozen one stays in alpha's view, failing to reconnect.
        alpha.configure(List.of(beta, gamma));
        beta.trust(alpha);
        beta.configure(List.of(gamma));
        gamma.configure(List.of(alpha, beta));
        for (MeshNode node : nodes) {
            node.start(JAVA);
        }
        for (MeshNode node : nodes) {
            Await.until(node.id + " sees both peers up", Duration.ofSeconds(30), () -> peersUp(node) == 2);
        }

        send(alpha, beta, BEFORE, "before-");
        Await.until("beta received the first messages", Duration.ofSeconds(30), () -> probe(beta)[0] >= BEFORE);
        String chosen = null;
        for (int attempt = 1; chosen == null; attempt++) {
            long failoversBefore = failovers(alpha, "beta");
            String candidate = activeChannel(alpha, "beta").orElseThrow(() -> new AssertionError("alpha has no active channel to beta"));
            FreezableProxy hole = proxyByPort.get(URI.create(candidate).getPort());
            assertTrue(hole != null, "alpha's active channel to beta runs through one of the test's proxies: " + candidate);
            hole.freeze();
            if (attempt == 1) {
                send(alpha, beta, DURING, "during-");
            }
            Await.until("alpha moved beta's traffic off the frozen channel " + candidate, Duration.ofSeconds(15),
                    () -> activeChannel(alpha, "beta").filter(u -> !u.equals(candidate)).isPresent());
            if (failovers(alpha, "beta") > failoversBefore) {
                chosen = candidate;
            } else {
                // the router had switched to the other channel for its RTT just before the freeze
                // landed, so it froze a standby: no failover to show; thaw and freeze the active one
                assertTrue(attempt < 3, "three freezes in a row hit a standby channel");
                hole.thaw();
                Await.until("the thawed channel " + candidate + " is open again", Duration.ofSeconds(30),
                        () -> channelState(alpha, "beta", candidate).equals("OPEN"));
            }
        }
        String frozenUri = chosen;
        Await.until("beta received every message exactly once", Duration.ofSeconds(30),
                () -> probe(beta)[1] >= BEFORE + DURING);
        Await.until("alpha's outbox has all " + (BEFORE + DURING) + " acknowledged", Duration.ofSeconds(30),
                () -> outboxDone(alpha) == BEFORE + DURING);
        try {
            Await.until("alpha's health view has alpha seeing beta directly", Duration.ofSeconds(30),
                    () -> status(alpha).contains("\"observer\":\"alpha\",\"subject\":\"beta\",\"reachability\":\"direct\""));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; alpha's status: " + status(alpha) + "\nalpha's stderr:\n"
                    + String.join("\n", alpha.process().stderr()), e);
        }
        String activeNow = activeChannel(alpha, "beta").orElseThrow();
        long[] delivered = probe(beta);
        assertEquals(delivered[1], delivered[0], "nothing reached beta's handler twice");

        long started = System.nanoTime();
        Map<String, Object> page = loadDashboard(alpha);
        System.out.println("froze " + frozenUri + ", alpha moved beta's traffic to " + activeNow);
        System.out.println("dashboard screenshot: " + SCREENSHOT + " (browser run " + (System.nanoTime() - started) / 1_000_000 + " ms)");

        assertEquals(List.of(), page.get("consoleErrors"), "the page ran without script errors");
        assertEquals("Meshwork node alpha", page.get("title"));
        assertTrue(String.valueOf(page.get("conn")).startsWith("live"), "the page is updated live: " + page.get("conn"));

        List<Map<String, Object>> betaRows = rows(page, "peers", "peer", "beta");
        assertEquals(2, betaRows.size(), "one row per channel alpha opened to beta: " + betaRows);
        assertEquals("UP", betaRows.get(0).get("state"), "beta is still up: " + betaRows);
        assertTrue(Integer.parseInt(String.valueOf(betaRows.get(0).get("failovers"))) >= 1, "the failover is counted: " + betaRows);
        List<String> active = betaRows.stream().map(r -> String.valueOf(r.get("channel")))
                .filter(c -> c.endsWith("◀ active")).toList();
        assertEquals(1, active.size(), "exactly one active channel to beta: " + betaRows);
        assertTrue(active.get(0).startsWith(activeNow), "the page shows the standby channel active: " + active);
        assertFalse(active.get(0).startsWith(frozenUri), "the frozen channel is no longer active: " + active);
        assertEquals("OPEN", betaRows.stream().filter(r -> String.valueOf(r.get("channel")).endsWith("◀ active"))
                .findFirst().orElseThrow().get("channel state"), "the active channel is open: " + betaRows);
        Map<String, Object> frozen = betaRows.stream().filter(r -> frozenUri.equals(r.get("channel"))).findFirst()
                .orElseThrow(() -> new AssertionError("the frozen channel is still listed, inactive: " + betaRows));
        assertNotEquals("OPEN", frozen.get("channel state"), "the frozen channel is not open: " + frozen);
        assertFalse(String.valueOf(frozen.get("last error")).isBlank(), "and says why: " + frozen);
        List<Map<String, Object>> gammaRows = rows(page, "peers", "peer", "gamma");
        assertEquals("UP", gammaRows.get(0).get("state"), "gamma is still up: " + gammaRows);

        String outbox = String.valueOf(page.get("outbox"));
        List<String> parts = Arrays.asList(outbox.split(" · "));
        assertTrue(parts.containsAll(List.of("pending 0", "inflight 0", "done " + (BEFORE + DURING), "dead 0")),
                "the outbox drained, nothing dead: " + outbox);

        assertTrue(rows(page, "health", "observer", "alpha").stream()
                .anyMatch(r -> "beta".equals(r.get("subject")) && "direct".equals(r.get("reachability"))),
                "the health view shows alpha seeing beta directly: " + page.get("health"));
        List<Map<String, Object>> gateways = rows(page, "gateways", "gateway", "sleeper");
        assertEquals(1, gateways.size(), "the supervised gateway is listed: " + page.get("gateways"));
        assertEquals("RUNNING", gateways.get(0).get("state"));
        assertTrue(String.valueOf(gateways.get(0).get("pid")).matches("[0-9]+"), "with its pid: " + gateways);

        byte[] png = Files.readAllBytes(SCREENSHOT);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4), "a PNG screenshot");
        assertTrue(png.length > 10_000, "the screenshot has content: " + png.length + " bytes");
    }

    private MeshNode node(String id) throws IOException {
        MeshNode node = new MeshNode(id, root, 2);
        int[] advertised = new int[node.meshPorts.length];
        for (int i = 0; i < advertised.length; i++) {
            FreezableProxy proxy = new FreezableProxy(node.meshPorts[i]);
            proxies.add(proxy);
            proxyByPort.put(proxy.port(), proxy);
            proxyByPort.put(node.meshPorts[i], proxy);
            advertised[i] = proxy.port();
        }
        node.advertise(advertised);
        nodes.add(node);
        return node;
    }

    /** Runs the browser script against the node's dashboard and returns what it read. */
    private Map<String, Object> loadDashboard(MeshNode node) throws Exception {
        Files.deleteIfExists(SCREENSHOT);
        Path profile = Files.createDirectories(root.resolve("chromium-profile"));
        ProcessBuilder builder = new ProcessBuilder("node", BROWSER_DIR.resolve("dashboard.cjs").toString(),
                node.console().toString(), SCREENSHOT.toString(), profile.toString(), "20000")
                .directory(BROWSER_DIR.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put("CHROMIUM", CHROMIUM.toString());
        Process browser = builder.start();
        String output = new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!browser.waitFor(60, TimeUnit.SECONDS)) {
            browser.destroyForcibly();
            throw new AssertionError("the browser script did not finish: " + output);
        }
        assertEquals(0, browser.exitValue(), "the browser script failed: " + output);
        Map<String, Object> page = new Yaml().load(output.substring(output.lastIndexOf('\n') + 1));
        assertNotEquals(null, page, output);
        return page;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rows(Map<String, Object> page, String table, String column, String value) {
        return ((List<Map<String, Object>>) page.get(table)).stream().filter(r -> value.equals(r.get(column))).toList();
    }

    private static void send(MeshNode from, MeshNode to, int count, String tag) throws Exception {
        for (int i = 0; i < count; i++) {
            var response = from.post("/outbox?target=" + to.id + "&topic=meshwork.console.probe&key=" + tag + i, tag + i);
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    private static String status(MeshNode node) {
        try {
            return node.status();
        } catch (Exception e) {
            return "";
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> statusDocument(MeshNode node) {
        String json = status(node);
        return json.isEmpty() ? Map.of() : new Yaml().load(json);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> peers(MeshNode node) {
        return (List<Map<String, Object>>) statusDocument(node).getOrDefault("peers", List.of());
    }

    private static long peersUp(MeshNode node) {
        return peers(node).stream().filter(p -> "UP".equals(p.get("state"))).count();
    }

    /** The peer's entry in the node's {@code /status.json}, or an empty map. */
    private static Map<String, Object> peer(MeshNode node, String peer) {
        return peers(node).stream().filter(p -> peer.equals(p.get("node"))).findFirst().orElse(Map.of());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> channels(MeshNode node, String peer) {
        return (List<Map<String, Object>>) peer(node, peer).getOrDefault("channels", List.of());
    }

    @SuppressWarnings("unchecked")
    private static long failovers(MeshNode node, String peer) {
        Object n = ((Map<String, Object>) peer(node, peer).getOrDefault("counters", Map.of())).get("failovers");
        return n == null ? 0 : ((Number) n).longValue();
    }

    private static String channelState(MeshNode node, String peer, String uri) {
        return channels(node, peer).stream().filter(c -> uri.equals(String.valueOf(c.get("uri"))))
                .map(c -> String.valueOf(c.get("state"))).findFirst().orElse("");
    }

    private static Optional<String> activeChannel(MeshNode node, String peer) {
        return channels(node, peer).stream().filter(c -> Boolean.TRUE.equals(c.get("active")))
                .map(c -> String.valueOf(c.get("uri"))).findFirst();
    }

    @SuppressWarnings("unchecked")
    private static long outboxDone(MeshNode node) {
        Map<String, Object> outbox = (Map<String, Object>) statusDocument(node).get("outbox");
        return outbox == null ? -1 : ((Number) ((Map<String, Object>) outbox.get("byState")).get("done")).longValue();
    }

    private static long[] probe(MeshNode node) {
        try {
            return node.probe();
        } catch (Exception e) {
            return new long[] {0, 0};
        }
    }
}
