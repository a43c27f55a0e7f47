package dev.meshwork.testkit.crash;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One packaged node ({@code java -jar meshwork.jar}) that the crash suite starts, signals and
 * starts again, talking to it only through its public interfaces: the configuration file, the
 * process, its output and its console.
 *
 * <p>Ports are read back, never guessed: the console binds port 0 at every start and the node
 * logs where; the mesh port is bound as port 0 on the first start (which also creates the
 * identity) and then kept, because the peer's configuration names it. Each start's output goes to
 * its own log file under the node's directory ({@code out-N.log}, {@code err-N.log}) for the
 * post-mortem of a failed seed.
 */
public final class PackagedNode implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("Meshwork node \\S+ listening on ws://127\\.0\\.0\\.1:(\\d+)/mesh");
    private static final Pattern CONSOLE = Pattern.compile("node console at (http://\\S+/)");
    private static final Pattern PUBLIC_KEY = Pattern.compile("\"publicKey\":\"([^\"]+)\"");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String id;
    final Path dir;
    private final Path javaExecutable;
    private final Path jar;
    private final Path bundles;
    private int meshPort;
    private String publicKey;
    private String peersYaml = "";
    private volatile Process process;
    private volatile URI console;
    private volatile boolean listening;
    private int starts;

    public PackagedNode(String id, Path root, Path java, Path jar) throws IOException {
        this.id = id;
        this.dir = Files.createDirectories(root.resolve(id));
        this.javaExecutable = java;
        this.jar = jar;
        this.bundles = Files.createDirectories(dir.resolve("bundles"));
    }

    public Path dataDir() {
        return dir.resolve("data");
    }

    public Path bundlesDir() {
        return bundles;
    }

    /** Starts once alone on port 0: creates the identity and learns the mesh port and public key. */
    public void createIdentity(Duration timeout) throws IOException, InterruptedException {
        writeConfig();
        launch();
        awaitUp(timeout);
        publicKey = match(PUBLIC_KEY, get("/status.json").body()).orElseThrow(() -> new IllegalStateException(id + " shows no publicKey"));
        int code = terminate(timeout);
        if (code != 0) {
            throw new IllegalStateException(id + " exited with " + code + " after its first start");
        }
    }

    /** Makes {@code peers} this node's peers (they must have their identity); applies at the next start. */
    public void peerWith(PackagedNode... peers) throws IOException {
        StringBuilder yaml = new StringBuilder("peers:\n");
        for (PackagedNode peer : peers) {
            yaml.append("  ").append(peer.id).append(":\n    node: ").append(peer.id).append("\n    urls:\n")
                    .append("      - \"ws://127.0.0.1:").append(peer.meshPort).append("/mesh\"\n")
                    .append("    publicKey: ").append(peer.publicKey).append('\n');
        }
        peersYaml = yaml.toString();
        writeConfig();
    }

    private void writeConfig() throws IOException {
        String yaml = "node:\n  id: " + id + "\n  listen:\n    - \"ws://127.0.0.1:" + meshPort + "/mesh\"\n"
                + "console:\n  port: 0\n" + peersYaml;
        Files.writeString(dir.resolve("node.yaml"), yaml);
    }

    /** Starts the process and returns at once (the node is not up yet). */
    public synchronized void launch() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(id + " is already running");
        }
        int n = ++starts;
        console = null;
        listening = false;
        List<String> command = new ArrayList<>(List.of(javaExecutable.toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar",
                jar.toAbsolutePath().toString(), "--config", dir.resolve("node.yaml").toString(), "--data", dataDir().toString(),
                "--bundles", bundles.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHWORK_"));
        Process p = builder.start();
        process = p;
        pump(p.getInputStream(), dir.resolve("out-" + n + ".log"), line -> {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                if (meshPort == 0) {
                    meshPort = Integer.parseInt(m.group(1));
                }
                if (process == p) {
                    listening = true;
                }
            }
        });
        pump(p.getErrorStream(), dir.resolve("err-" + n + ".log"), line -> {
            Matcher m = CONSOLE.matcher(line);
            if (m.find() && process == p) {
                console = URI.create(m.group(1));
            }
        });
    }

    /** Waits for the node's "listening" line and its console; fails if the process ends first. */
    public void awaitUp(Duration timeout) throws InterruptedException {
        Process p = process;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(listening && console != null)) {
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException(id + " ended while starting (exit " + (p == null ? "-" : p.exitValue())
                        + "); see " + dir.resolve("err-" + starts + ".log"));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(id + " did not come up within " + timeout + "; see " + dir.resolve("err-" + starts + ".log"));
            }
            Thread.sleep(20);
        }
    }

    /** SIGKILL, as a crash; returns once the process is gone. */
    public void kill() throws InterruptedException {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            p.waitFor();
        }
        console = null;
    }

    /** SIGTERM, a clean stop; the exit code, or -1 if it did not end in time (it is then killed). */
    public int terminate(Duration timeout) throws InterruptedException {
        Process p = process;
        if (p == null) {
            return 0;
        }
        p.destroy();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
            return -1;
        }
        console = null;
        return p.exitValue();
    }

    public boolean isAlive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The console of the running process once it has said where it is, or null. */
    public URI console() {
        return console;
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        URI base = console;
        if (base == null) {
            throw new ConnectException(id + " has no console now");
        }
        return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The sum of the number in group 1 of {@code pattern} over every start's stderr (the node's log) so far. */
    public long sumLogged(Pattern pattern) throws IOException {
        long sum = 0;
        for (int n = 1; n <= starts; n++) {
            Path log = dir.resolve("err-" + n + ".log");
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    Matcher m = pattern.matcher(line);
                    if (m.find()) {
                        sum += Long.parseLong(m.group(1));
                    }
                }
            }
        }
        return sum;
    }

    private static Optional<String> match(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static void pump(InputStream in, Path log, Consumer<String> onLine) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                    BufferedWriter out = Files.newBufferedWriter(log)) {
                for (String line; (line = reader.readLine()) != null; ) {
                    onLine.accept(line);
                    out.write(line);
                    out.newLine();
                    out.flush();
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "crash-node-output");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }
}
