package dev.meshwork.api.lifecycle;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What a {@link Probe} may know about the gateway it checks.
 *
 * <p><b>Threading:</b> thread-safe; values reflect the moment of the call.
 */
@ProviderType
public interface ProbeContext {

    /** The gateway's name. */
    String gateway();

    /** The probe's parameters from configuration (e.g. {@code port}, {@code path}, {@code pattern}). */
    Map<String, String> parameters();

    /** How long the supervisor waits for this probe. */
    Duration timeout();

    /** The process id, if the process is running. */
    OptionalLong pid();

    /** Lines the current process wrote to stdout or stderr since it was spawned (bounded, newest last). */
    List<String> outputSinceSpawn();

    /**
     * Completes with the first line the current process wrote since it was spawned (earlier lines
     * included) that matches {@code pattern}. Unlike scanning {@link #outputSinceSpawn()}, a
     * supervisor can check every line as it arrives, so a line pushed out of the bounded buffer by
     * a flood is not missed. The supervisor's timeout still applies.
     *
     * <p>The default polls {@link #outputSinceSpawn()} every 10 ms until {@link #timeout()}.
     *
     * @since 1.1
     */
    default CompletionStage<String> awaitLine(Pattern pattern) {
        CompletableFuture<String> out = new CompletableFuture<>();
        long deadline = System.nanoTime() + timeout().toNanos();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            List<String> lines = outputSinceSpawn();
            for (String line : lines) {
                if (pattern.matcher(line).find()) {
                    out.complete(line);
                    return;
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                out.completeExceptionally(new java.util.concurrent.TimeoutException("no output line matched /" + pattern + "/"));
            } else if (!out.isDone()) {
                CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS).execute(check[0]);
            }
        };
        check[0].run();
        return out;
    }
}
