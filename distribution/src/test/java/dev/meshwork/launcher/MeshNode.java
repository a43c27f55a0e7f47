package dev.meshwork.launcher;

import dev.meshwork.testkit.ReservedPort;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node of an end-to-end mesh: its ports, data directory and configuration file, and the
 * packaged launcher running it. Talks to it only through public interfaces: the file, the
 * process, and the console's HTTP endpoints.
 */
final class MeshNode implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static final Pattern CONSOLE = Pattern.compile("node console at http://[^:/]+:([0-9]+)/");

    final String id;
    final Path dir;
    /**
     * The listen ports. Known before the node starts, by construction: peers name them in their
     * configuration before either side starts. Each is held open by this JVM ({@link #reserved})
     * until the moment the node's first start hands it over.
     */
    final int[] meshPorts;
    private final List<ReservedPort> reserved = new ArrayList<>();
    /** The console binds port 0; the port it got is read from its log line at each start. */
    private volatile int consolePort;
    private NodeProcess process;
    private String publicKey;
    /** Ports peers dial (proxies in front of {@link #meshPorts}, if any); the listen ports otherwise. */
    private int[] advertisedPorts;
    /** More configuration sections appended to the file as they are (e.g. {@code gateways:}). */
    private String extraYaml = "";
    /** Nodes this one accepts by key (node.trustedKeys) without dialling them. */
    private List<MeshNode> trusted = List.of();

    MeshNode(String id, Path root, int channels) throws IOException {
        this.id = id;
        this.dir = Files.createDirectories(root.resolve(id));
        this.meshPorts = new int[channels];
        for (int i = 0; i < channels; i++) {
            ReservedPort port = new ReservedPort();
            reserved.add(port);
            meshPorts[i] = port.port();
        }
        this.advertisedPorts = meshPorts;
    }

    /** The URLs peers dial to reach this node. */
    List<String> urls() {
        return urls(advertisedPorts);
    }

    private static List<String> urls(int[] ports) {
        List<String> urls = new ArrayList<>();
        for (int port : ports) {
            urls.add("ws://127.0.0.1:" + port + "/mesh");
        }
        return urls;
    }

    /** Peers will dial these ports (e.g. proxies in front of the listen ports) instead of the listen ports. */
    void advertise(int... ports) {
        this.advertisedPorts = ports.clone();
    }

    /**
     * Trust these nodes' keys without configuring them as peers: they may dial this node, it
     * never dials them (so every channel between the two is opened by the other side).
     */
    void trust(MeshNode... nodes) {
        this.trusted = List.of(nodes);
    }

    /** Sections appended verbatim to the configuration file by the next {@link #configure}. */
    void extraYaml(String yaml) {
        this.extraYaml = yaml;
    }

    /** Writes the node's configuration: its listeners, console, and the given peers. */
    void configure(List<MeshNode> peers) throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("node:\n  id: ").append(id).append("\n  listen:\n");
        for (String url : urls(meshPorts)) {
            yaml.append("    - \"").append(url).append("\"\n");
        }
        if (!trusted.isEmpty()) {
            yaml.append("  trustedKeys:\n");
            for (MeshNode node : trusted) {
                yaml.append("    - ").append(node.publicKey()).append('\n');
            }
        }
        yaml.append("console:\n  port: 0\n");
        if (!peers.isEmpty()) {
            yaml.append("peers:\n");
            for (MeshNode peer : peers) {
                yaml.append("  ").append(peer.id).append(":\n    node: ").append(peer.id).append("\n    urls:\n");
                for (String url : peer.urls()) {
                    yaml.append("      - \"").append(url).append("\"\n");
                }
                yaml.append("    publicKey: ").append(peer.publicKey()).append('\n');
            }
        }
        yaml.append(extraYaml);
        Files.writeString(config(), yaml.toString());
    }

    Path config() {
        return dir.resolve("node.yaml");
    }

    void start(Path java, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--config", config().toString()));
        args.addAll(List.of(extraArgs));
        reserved.forEach(ReservedPort::release);
        process = NodeProcess.start(java, dir, args.toArray(String[]::new));
        process.awaitStdout(l -> l.contains("Meshwork node " + id + " listening"), Duration.ofSeconds(30));
        Matcher console = CONSOLE.matcher(process.awaitStderr(l -> CONSOLE.matcher(l).find(), Duration.ofSeconds(30)));
        console.find();
        consolePort = Integer.parseInt(console.group(1));
        if (publicKey == null) {
            publicKey = field(status(), "publicKey");
        }
    }

    /** Starts once without peers to learn the node's generated public key. */
    void createIdentity(Path java) throws Exception {
        configure(List.of());
        start(java);
        stop();
    }

    String publicKey() {
        if (publicKey == null) {
            throw new IllegalStateException(id + " has no identity yet");
        }
        return publicKey;
    }

    void stop() throws InterruptedException {
        if (process != null) {
            int code = process.terminate(Duration.ofSeconds(20));
            process = null;
            if (code != 0) {
                throw new AssertionError(id + " exited with " + code);
            }
        }
    }

    /** The running launcher process, for tests that talk to its stdin (the shell) or signal it. */
    NodeProcess process() {
        if (process == null) {
            throw new IllegalStateException(id + " is not running");
        }
        return process;
    }

    /** SIGKILL: no clean shutdown, as a crash. */
    void kill() {
        if (process != null) {
            process.close();
            process = null;
        }
    }

    String status() throws Exception {
        return get("/status.json");
    }

    String get(String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(console().resolve(path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(console().resolve(path)).timeout(Duration.ofSeconds(15))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    URI console() {
        if (consolePort == 0) {
            throw new IllegalStateException(id + " has not started: its console port is not known");
        }
        return URI.create("http://127.0.0.1:" + consolePort + "/");
    }

    /** The first value of a string or number field in a JSON document (enough for these tests). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\"([^\"]*)\"|(-?[0-9.]+))").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no field " + name + " in " + json);
        }
        return m.group(2) != null ? m.group(2) : m.group(3);
    }

    /** Probe deliveries and distinct ids seen by this node's console. */
    long[] probe() throws Exception {
        String status = status();
        int at = status.indexOf("\"probe\":");
        if (at < 0) {
            return new long[] {0, 0};
        }
        String probe = status.substring(at);
        return new long[] {Long.parseLong(field(probe, "deliveries")), Long.parseLong(field(probe, "distinct"))};
    }

    @Override
    public void close() {
        kill();
        reserved.forEach(ReservedPort::release);
    }
}
