package dev.meshwork.supervisor.internal.process;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One running gateway process and its process group, as the state machine sees it.
 *
 * <p>An interface so state machine tests can drive exits and output without real processes.
 * Implementations are thread-safe; signalling methods never block for long.
 */
public interface GatewayProcess {

    long pid();

    /** Completes (on any thread) when the main process has exited. */
    CompletableFuture<ExitStatus> exit();

    /**
     * Completes when both output streams have ended. May lag the exit, or never come while a
     * grandchild holds the pipes open; callers bound their wait.
     */
    default CompletableFuture<Void> drained() {
        return CompletableFuture.completedFuture(null);
    }

    /** SIGTERM to the whole process group and to descendants that left it. */
    void terminate();

    /** SIGKILL to the whole process group and to every descendant seen. */
    void kill();

    /** Sends {@code signal} (e.g. {@code HUP}) to the main process only; false if it is gone. */
    boolean signal(String signal);

    /** Whether any process of the group (or a descendant seen earlier) is still alive. */
    boolean anyAlive();

    /** Lines written since spawn, oldest first (bounded). */
    List<String> output();

    /** Completes with the first output line matching {@code pattern}, kept or still to come. */
    default CompletableFuture<String> awaitLine(java.util.regex.Pattern pattern) {
        for (String line : output()) {
            if (pattern.matcher(line).find()) {
                return CompletableFuture.completedFuture(line);
            }
        }
        return new CompletableFuture<>();
    }

    /** Whether this process was found running rather than spawned by this supervisor. */
    boolean adopted();
}
