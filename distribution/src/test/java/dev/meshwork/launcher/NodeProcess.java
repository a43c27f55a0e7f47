package dev.meshwork.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The packaged {@code meshwork.jar} running as a separate process, for end-to-end tests that use
 * only its public interfaces: the command line, stdout/stderr, signals and the exit code.
 */
final class NodeProcess implements AutoCloseable {

    /** How long the output may trail the exit: the last buffered lines only. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);

    private final Process process;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    /** The readers of stdout and stderr: each ends when its stream does (the process closed it). */
    private final Thread stdoutReader;
    private final Thread stderrReader;
    final long startedNanos = System.nanoTime();

    private NodeProcess(Process process) {
        this.process = process;
        this.stdoutReader = pump(process.getInputStream(), stdout, "stdout");
        this.stderrReader = pump(process.getErrorStream(), stderr, "stderr");
    }

    static Path launcherJar() {
        Path jar = Path.of(System.getProperty("meshwork.launcher.jar", "target/meshwork.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("package the distribution first: " + jar + " is missing");
        }
        return jar;
    }

    /** The JDKs to run the node on: this one, and Temurin 25 when it is installed beside it. */
    static List<Path> javaExecutables() {
        List<Path> javas = new ArrayList<>();
        javas.add(Path.of(System.getProperty("java.home"), "bin", "java"));
        Path temurin25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
        if (Files.isExecutable(temurin25)) {
            javas.add(temurin25);
        }
        return javas;
    }

    static NodeProcess start(Path java, Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-jar", launcherJar().toAbsolutePath().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHWORK_"));
        return new NodeProcess(builder.start());
    }

    private static Thread pump(java.io.InputStream in, List<String> into, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    into.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "node-" + name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Waits for a stdout line matching {@code condition}; fails with the output so far. */
    String awaitStdout(Predicate<String> condition, Duration timeout) throws InterruptedException {
        return awaitLine(stdout, condition, timeout);
    }

    /** Waits for a stderr line (where the node logs) matching {@code condition}; fails with the output so far. */
    String awaitStderr(Predicate<String> condition, Duration timeout) throws InterruptedException {
        return awaitLine(stderr, condition, timeout);
    }

    private String awaitLine(List<String> lines, Predicate<String> condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (condition.test(line)) {
                    return line;
                }
            }
            if (!process.isAlive()) {
                // the process is gone: every line it wrote is read once both streams ended; look once more
                awaitOutputEnd(DRAIN_TIMEOUT);
                for (String line : lines) {
                    if (condition.test(line)) {
                        return line;
                    }
                }
                throw new AssertionError("the node exited (" + process.exitValue() + ") without matching output; stdout="
                        + stdout + " stderr=" + stderr);
            }
            Thread.sleep(10); // poll of this condition wait
        }
        throw new AssertionError("no matching output within " + timeout + "; stdout=" + stdout + " stderr=" + stderr);
    }

    /**
     * Whether both output streams reached their end (the readers saw EOF) within {@code timeout}:
     * only then are {@link #stdout()} and {@link #stderr()} complete.
     */
    boolean outputDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread reader : List.of(stdoutReader, stderrReader)) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left > 0) {
                reader.join(left);
            }
        }
        return !stdoutReader.isAlive() && !stderrReader.isAlive();
    }

    private void awaitOutputEnd(Duration timeout) throws InterruptedException {
        if (!outputDrained(timeout)) {
            // a descendant that inherited the node's stdout/stderr keeps it open past the node's exit
            throw new AssertionError("the node exited but its output did not end within " + timeout + " (descendants "
                    + descendants() + "); stdout=" + stdout + " stderr=" + stderr);
        }
    }

    /** Writes one line to the process's stdin (e.g. a shell command). */
    void writeLine(String line) throws IOException {
        java.io.OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Closes the process's stdin: end of input. */
    void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Sends SIGTERM and waits for the exit code. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        return awaitExit(timeout);
    }

    /** Waits for the exit code and for the end of the node's output, so {@link #stderr()} holds its last line. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the node did not exit within " + timeout + "; stderr=" + stderr);
        }
        awaitOutputEnd(DRAIN_TIMEOUT);
        return process.exitValue();
    }

    /** The process's children and their children, alive now. */
    List<ProcessHandle> descendants() {
        return process.descendants().filter(ProcessHandle::isAlive).toList();
    }

    List<String> stdout() {
        return List.copyOf(stdout);
    }

    List<String> stderr() {
        return List.copyOf(stderr);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
