package dev.meshwork.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark's helper process that talks in lines: commands on its stdin, answers on its stdout,
 * each answer starting with a word the harness waits for.
 */
final class ChildProcess {

    final Process process;
    final PrintWriter in;
    /** Lines not yet consumed by {@link #await}. */
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    /** Every line so far (synchronise on it to iterate). */
    final List<String> all = Collections.synchronizedList(new ArrayList<>());
    private final long askTimeoutMs;

    /**
     * @param stderr where the child's stderr goes (the harness's own, or discarded for chatty children)
     * @param askTimeoutMs how long {@link #ask} waits for the answer
     */
    ChildProcess(List<String> command, Redirect stderr, long askTimeoutMs) throws IOException {
        this.askTimeoutMs = askTimeoutMs;
        process = new ProcessBuilder(command).redirectError(stderr).start();
        in = new PrintWriter(process.getOutputStream(), true);
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                    all.add(l);
                }
            } catch (IOException e) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** The next line starting with {@code prefix} (earlier lines are skipped), or a failure naming the output. */
    String await(String prefix, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            String l = left <= 0 ? null : lines.poll(left, TimeUnit.MILLISECONDS);
            if (l == null) {
                throw new IllegalStateException("no '" + prefix + "' within " + timeoutMs + " ms; output: " + all);
            }
            if (l.startsWith(prefix)) {
                return l;
            }
        }
    }

    String ask(String command, String prefix) throws InterruptedException {
        in.println(command);
        return await(prefix, askTimeoutMs);
    }

    long cpuNanos() {
        return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor();
    }
}
