package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.osgi.service.component.annotations.Component;

/**
 * Probe type {@code log}: passes once a line the process wrote since it was spawned matches
 * {@code pattern}. Uses {@link ProbeContext#awaitLine}, which the supervisor answers by checking
 * every line as it arrives: noticed within microseconds, and a stderr flood cannot push the
 * readiness line out of the bounded buffer before it is seen.
 */
@Component(service = Probe.class, property = Probe.TYPE + "=log")
public final class LogProbe implements Probe {

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        String regex = context.parameters().get("pattern");
        if (regex == null || regex.isEmpty()) {
            return CompletableFuture.completedFuture(ProbeResult.failed("log probe: parameter 'pattern' is missing"));
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            return CompletableFuture.completedFuture(ProbeResult.failed("log probe: 'pattern' is not a regex: " + e.getDescription()));
        }
        return context.awaitLine(pattern).handle((line, t) -> t == null ? ProbeResult.ok("log line matched: " + line)
                : ProbeResult.failed("log probe: " + t));
    }
}
