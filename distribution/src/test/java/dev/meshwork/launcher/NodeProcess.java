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

    private final Process process;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    final long startedNanos = System.nanoTime();

    private NodeProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), stdout, "stdout");
        pump(process.getErrorStream(), stderr, "stderr");
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

    private static void pump(java.io.InputStream in, List<String> into, String name) {
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
            if (!process.isAlive() && stdoutDrained()) {
                break;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no matching output within " + timeout + "; stdout=" + stdout + " stderr=" + stderr);
    }

    private boolean stdoutDrained() throws InterruptedException {
        Thread.sleep(50);
        return true;
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

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the node did not exit within " + timeout + "; stderr=" + stderr);
        }
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
