package dev.meshwork.launcher.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.Yaml;

/**
 * One node of the demo mesh, run as a child process of the launcher and observed only through
 * its console: {@code /status.json} (JSON is YAML, so SnakeYAML, already in the launcher, reads it).
 */
final class DemoNode implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String id;
    final Path dir;
    final int[] meshPorts;
    final int consolePort;
    private final List<String> advertised = new ArrayList<>();
    private Process process;
    private String publicKey;

    DemoNode(String id, Path root, int channels) throws IOException {
        this.id = id;
        this.dir = Files.createDirectories(root.resolve(id));
        this.meshPorts = new int[channels];
        for (int i = 0; i < channels; i++) {
            meshPorts[i] = freePort();
        }
        this.consolePort = freePort();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The URLs peers dial: through the given proxy ports when there are any. */
    void advertise(List<Integer> ports) {
        advertised.clear();
        for (int port : ports) {
            advertised.add("ws://127.0.0.1:" + port + "/mesh");
        }
    }

    List<String> urls() {
        return advertised;
    }

    void configure(List<DemoNode> peers) throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("node:\n  id: ").append(id).append("\n  listen:\n");
        for (int port : meshPorts) {
            yaml.append("    - \"ws://127.0.0.1:").append(port).append("/mesh\"\n");
        }
        yaml.append("console:\n  port: ").append(consolePort).append('\n');
        if (!peers.isEmpty()) {
            yaml.append("peers:\n");
            for (DemoNode peer : peers) {
                yaml.append("  ").append(peer.id).append(":\n    node: ").append(peer.id).append("\n    urls:\n");
                for (String url : peer.urls()) {
                    yaml.append("      - \"").append(url).append("\"\n");
                }
                yaml.append("    publicKey: ").append(peer.publicKey).append('\n');
            }
        }
        Files.writeString(dir.resolve("node.yaml"), yaml.toString());
    }

    void start(Path java, Path launcherJar) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Xmx256m", "-jar", launcherJar.toString(),
                "--config", dir.resolve("node.yaml").toString(), "--log-level", "warn")
                .directory(dir.toFile())
                .redirectError(dir.resolve("node.log").toFile());
        process = builder.start();
        CompletableFuture<String> up = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("Meshwork node ")) {
                        up.complete(line);
                    }
                }
            } catch (IOException ignored) {
                // the node went away
            }
            up.complete(null);
        }, "demo-" + id);
        reader.setDaemon(true);
        reader.start();
        String line;
        try {
            line = up.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            line = null;
        }
        if (line == null) {
            throw new IOException(id + " did not start; see " + dir.resolve("node.log"));
        }
        if (publicKey == null) {
            publicKey = String.valueOf(status().get("publicKey"));
        }
    }

    /** SIGTERM and wait: the node stops cleanly. */
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            process = null;
        }
    }

    /** SIGKILL: a crash, with no chance to say goodbye. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    boolean running() {
        return process != null && process.isAlive();
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> status() throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(console().resolve("/status.json"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return (Map<String, Object>) new Yaml().load(response.body());
    }

    int post(String path, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(console().resolve(path)).timeout(Duration.ofSeconds(15))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    URI console() {
        return URI.create("http://127.0.0.1:" + consolePort + "/");
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
