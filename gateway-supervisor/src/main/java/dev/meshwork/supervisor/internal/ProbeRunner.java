package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Runs one readiness or heartbeat probe against a gateway process: finds the probe of the
 * configured type on the whiteboard, gives it the process's port, and bounds it by its timeout.
 *
 * <p>The result is always a {@link ProbeResult}: a missing probe type, a timeout, a failed
 * future, a {@code null} answer or a {@link RuntimeException} are failed results (a miss), so the
 * state machine decides on one kind of input. An {@link Error} is not a verdict on the gateway:
 * it propagates to the {@link GuardedScheduler}, which logs and counts it.
 *
 * <p>Used on the supervisor's thread; the returned future completes on any thread.
 */
final class ProbeRunner {

    private final String gateway;
    private final Function<String, Optional<Probe>> probes;
    private final GuardedScheduler tasks;

    ProbeRunner(String gateway, Function<String, Optional<Probe>> probes, GuardedScheduler tasks) {
        this.gateway = gateway;
        this.probes = probes;
        this.tasks = tasks;
    }

    /**
     * @param p    the process probed, or null (a probe then sees no pid and no output)
     * @param port the port it listens on, given as the {@code port} parameter unless one is configured; 0 for none
     */
    CompletableFuture<ProbeResult> run(ProbeSpec spec, Duration timeout, GatewayProcess p, int port) {
        Optional<Probe> probe = probes.apply(spec.type());
        if (probe.isEmpty()) {
            return CompletableFuture.completedFuture(ProbeResult.failed("no probe of type '" + spec.type() + "' is registered"));
        }
        Map<String, String> params = spec.parameters();
        if (port > 0 && !params.containsKey("port")) {
            params = new HashMap<>(params);
            params.put("port", Integer.toString(port));
            params = Map.copyOf(params);
        }
        ProbeContext ctx = new Context(gateway, params, timeout, p == null ? OptionalLong.empty() : OptionalLong.of(p.pid()), p);
        CompletableFuture<ProbeResult> out = new CompletableFuture<>();
        ScheduledFuture<?> timer = tasks.schedule(spec.type() + " probe timeout",
                () -> out.complete(ProbeResult.failed(spec.type() + " probe timed out after " + timeout.toMillis() + " ms")),
                timeout);
        try {
            probe.get().probe(ctx).whenComplete((r, ex) -> {
                timer.cancel(false);
                if (ex != null) {
                    out.complete(ProbeResult.failed(spec.type() + " probe failed: " + ex));
                } else {
                    out.complete(r == null ? ProbeResult.failed(spec.type() + " probe returned nothing") : r);
                }
            });
        } catch (RuntimeException ex) {
            timer.cancel(false);
            out.complete(ProbeResult.failed(spec.type() + " probe threw " + ex));
        }
        return out;
    }

    private record Context(String gateway, Map<String, String> parameters, Duration timeout, OptionalLong pid,
            GatewayProcess process) implements ProbeContext {
        @Override
        public List<String> outputSinceSpawn() {
            return process == null ? List.of() : process.output();
        }

        @Override
        public CompletionStage<String> awaitLine(Pattern pattern) {
            return process == null ? CompletableFuture.failedFuture(new IllegalStateException("no process"))
                    : process.awaitLine(pattern);
        }
    }
}
