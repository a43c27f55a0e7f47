package dev.meshwork.itest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second Meshwork node for the in-framework tests: the distribution's launcher ({@code
 * dev.meshwork.launcher.Main}, the class {@code meshwork.jar} runs, with the same embedded bundles)
 * started as a child process with its own configuration file, data and {@code bundles/}
 * directories. The test talks to it only through its public interfaces: the file, stdout, and
 * the console's {@code /status.json}.
 *
 * <p>Surefire runs these tests before {@code meshwork.jar} is packaged, so the child runs the
 * launcher from the test class path rather than from the jar.
 */
final class PeerProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static final Pattern CONSOLE = Pattern.compile("node console at http://[^:/]+:([0-9]+)/");

    final String id;
    final Path dir;
    /** Bound by the node on port 0 and read back once it started (its status names its listeners). */
    private volatile URI wsUrl;
    private volatile int consolePort;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private Process process;
    private String publicKey;

    PeerProcess(String id) throws IOException {
        this.id = id;
        this.dir = Files.createTempDirectory("meshwork-peer-" + id);
    }

    /** Where the node listens for WebSocket: known once it started. */
    URI wsUrl() {
        if (wsUrl == null) {
            throw new IllegalStateException(id + " has not started: its port is not known");
        }
        return wsUrl;
    }

    /**
     * The URL the node listens on for {@code scheme}, once it does (a transport that registers
     * after start-up, e.g. a drop-in's, is listened on when it arrives).
     */
    URI listenUrl(String scheme, Duration timeout) {
        Pattern url = Pattern.compile("\"(" + Pattern.quote(scheme) + "://[^\"]*:([0-9]+)[^\"]*)\"");
        URI[] found = new URI[1];
        Waits.until(id + " to listen on " + scheme, timeout, () -> {
            Matcher m = url.matcher(listenField());
            while (m.find()) {
                if (Integer.parseInt(m.group(2)) > 0) {
                    found[0] = URI.create(m.group(1));
                    return true;
                }
            }
            return false;
        }, this::listenField);
        return found[0];
    }

    private String listenField() {
        try {
            String status = status();
            int at = status.indexOf("\"listen\":[");
            return at < 0 ? "" : status.substring(at, status.indexOf(']', at) + 1);
        } catch (IOException e) {
            return "console unreachable: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Path bundlesDir() {
        return dir.resolve("bundles");
    }

    /**
     * Writes the configuration and starts the node, returning once it reports listening.
     *
     * @param extraListen further listen URLs (another transport's scheme); port 0 binds a free port,
     *                    see {@link #listenUrl}
     * @param peerId      the framework node's id, configured as this node's peer
     * @param peerUrl     where this node dials the framework node
     * @param peerKey     the framework node's public key
     */
    void start(List<String> extraListen, String peerId, URI peerUrl, String peerKey) throws Exception {
        Files.createDirectories(bundlesDir());
        StringBuilder yaml = new StringBuilder();
        yaml.append("node:\n  id: ").append(id).append("\n  listen:\n");
        yaml.append("    - \"ws://127.0.0.1:0/mesh\"\n");
        for (String url : extraListen) {
            yaml.append("    - \"").append(url).append("\"\n");
        }
        yaml.append("console:\n  port: 0\n");
        yaml.append("peers:\n  framework:\n    node: ").append(peerId).append("\n    urls:\n")
                .append("      - \"").append(peerUrl).append("\"\n")
                .append("    publicKey: ").append(peerKey).append('\n');
        Path config = dir.resolve("node.yaml");
        Files.writeString(config, yaml.toString());

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path bundles = Path.of(System.getProperty("meshwork.bundles.dir", "target/classes/bundles")).toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-cp", launcherClassPath(bundles.getParent()),
                "-Dmeshwork.bundles.dir=" + bundles));
        command.addAll(List.of("dev.meshwork.launcher.Main", "--config", config.toString(), "--data", dir.resolve("data").toString()));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHWORK_"));
        process = builder.start();
        pump(process.getInputStream(), stdout, "stdout");
        pump(process.getErrorStream(), stderr, "stderr");
        Waits.until(id + " to report listening", Duration.ofSeconds(60),
                () -> stdout.stream().anyMatch(l -> l.startsWith("Meshwork node " + id + " listening")) || !process.isAlive(),
                this::output);
        if (!process.isAlive()) {
            throw new AssertionError(id + " exited with " + process.exitValue() + ": " + output());
        }
        Waits.until(id + " to log its console's port", Duration.ofSeconds(30),
                () -> stderr.stream().anyMatch(l -> CONSOLE.matcher(l).find()), this::output);
        Matcher console = CONSOLE.matcher(stderr.stream().filter(l -> CONSOLE.matcher(l).find()).findFirst().orElseThrow());
        console.find();
        consolePort = Integer.parseInt(console.group(1));
        publicKey = field(status(), "publicKey");
        wsUrl = listenUrl("ws", Duration.ofSeconds(30));
    }

    /**
     * The launcher's own class path as {@code meshwork.jar} has it: the distribution's classes and
     * third-party jars, without the Meshwork modules (api, test kit) that Maven puts on the test
     * class path: the launcher must see the api only through the framework, as in the jar.
     */
    private static String launcherClassPath(Path launcherClasses) {
        String testClassPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = new ArrayList<>();
        entries.add(launcherClasses.toString());
        for (String entry : testClassPath.split(java.io.File.pathSeparator)) {
            String path = entry.replace('\\', '/');
            boolean meshworkModule = path.contains("/dev/meshwork/") || path.contains("/target/");
            if (!meshworkModule && path.endsWith(".jar")) {
                entries.add(entry);
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    String publicKey() {
        return publicKey;
    }

    private void pump(InputStream in, List<String> into, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    into.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, id + "-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    List<String> stdout() {
        return List.copyOf(stdout);
    }

    List<String> stderr() {
        return List.copyOf(stderr);
    }

    String output() {
        List<String> out = stdout();
        List<String> err = stderr();
        return "stdout tail=" + out.subList(Math.max(0, out.size() - 20), out.size())
                + " stderr tail=" + err.subList(Math.max(0, err.size() - 20), err.size());
    }

    String status() throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + consolePort + "/status.json"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    HttpResponse<String> post(String pathAndQuery, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + consolePort + pathAndQuery))
                .timeout(Duration.ofSeconds(15)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Deliveries and distinct message ids seen by the console's probe handler ({@code meshwork.console.probe}). */
    long[] probe() {
        String status;
        try {
            status = status();
        } catch (IOException e) {
            throw new IllegalStateException(id + " console unreachable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        int at = status.indexOf("\"probe\":");
        if (at < 0) {
            return new long[] {0, 0};
        }
        String probe = status.substring(at);
        return new long[] {Long.parseLong(field(probe, "deliveries")), Long.parseLong(field(probe, "distinct"))};
    }

    /** The first value of a string or number field in a JSON document (enough for these tests). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\"([^\"]*)\"|(-?[0-9.]+))").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no field " + name + " in " + json);
        }
        return m.group(2) != null ? m.group(2) : m.group(3);
    }

    /** Stops the node with SIGTERM (SIGKILL after 20 s) and removes its directory (its output is in memory). */
    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        deleteTree(dir);
    }

    static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // a temporary directory: the system cleans up what is left
        }
    }
}
