package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;

/** A probe whose answers the test gives by hand: each run returns a future the test completes. */
final class ScriptedProbe implements Probe {

    final List<CompletableFuture<ProbeResult>> runs = new CopyOnWriteArrayList<>();
    final List<ProbeContext> contexts = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        CompletableFuture<ProbeResult> f = new CompletableFuture<>();
        runs.add(f);
        contexts.add(context);
        return f;
    }

    CompletableFuture<ProbeResult> last() {
        return runs.get(runs.size() - 1);
    }

    void answerLast(boolean ok) {
        last().complete(ok ? ProbeResult.ok("fine") : ProbeResult.failed("no answer"));
    }
}
