package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Component;

/**
 * Probe type {@code log}: passes once a line the process wrote since it was spawned matches
 * {@code pattern}. Watches the output for up to the probe's timeout, every {@code pollMs}
 * (default 10 ms), so a readiness line is noticed within milliseconds without a callback API.
 */
@Component(service = Probe.class, property = Probe.TYPE + "=log")
public final class LogProbe implements Probe {

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        String regex = context.parameters().get("pattern");
        if (regex == null || regex.isEmpty()) {
            return CompletableFuture.completedFuture(ProbeResult.failed("log probe: parameter 'pattern' is missing"));
        }
        Pattern pattern = Pattern.compile(regex);
        long poll = Long.parseLong(Params.string(context, "pollMs", "10"));
        long deadline = System.nanoTime() + context.timeout().toNanos();
        CompletableFuture<ProbeResult> out = new CompletableFuture<>();
        check(context, pattern, poll, deadline, out);
        return out;
    }

    private static void check(ProbeContext ctx, Pattern pattern, long poll, long deadline, CompletableFuture<ProbeResult> out) {
        if (out.isDone()) {
            return; // the supervisor timed it out
        }
        List<String> lines = ctx.outputSinceSpawn();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (pattern.matcher(lines.get(i)).find()) {
                out.complete(ProbeResult.ok("log line matched: " + lines.get(i)));
                return;
            }
        }
        if (System.nanoTime() - deadline >= 0) {
            out.complete(ProbeResult.failed("no output line matched /" + pattern + "/"));
            return;
        }
        CompletableFuture.delayedExecutor(poll, TimeUnit.MILLISECONDS).execute(() -> check(ctx, pattern, poll, deadline, out));
    }
}
