package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo shell commands {@code outbox:stats}, {@code outbox:dead}, {@code outbox:retry ID} and
 * {@code outbox:abort ID}: the operator's view of the outbox. Each returns the text to print.
 */
@Component(service = OutboxCommands.class, property = {
        "osgi.command.scope=outbox",
        "osgi.command.function=stats",
        "osgi.command.function=dead",
        "osgi.command.function=retry",
        "osgi.command.function=abort"})
public final class OutboxCommands {

    private final Outbox outbox;

    @org.osgi.service.component.annotations.Activate
    public OutboxCommands(@Reference Outbox outbox) {
        this.outbox = outbox;
    }

    /** Depth by state and by target, oldest pending age, recent throughput. */
    public String stats() {
        OutboxStats s = outbox.stats();
        StringBuilder b = new StringBuilder();
        for (OutboxState st : OutboxState.values()) {
            b.append(String.format("%-9s %d%n", st.name().toLowerCase(java.util.Locale.ROOT), s.count(st)));
        }
        b.append(String.format("oldest pending: %s%n", s.oldestPendingAge().map(d -> d.toMillis() + " ms").orElse("-")));
        b.append(String.format("delivered/s (last minute): %.1f%n", s.deliveredPerSecond()));
        Map<String, Long> byTarget = new TreeMap<>();
        s.pendingByTarget().forEach((k, v) -> byTarget.put(k.value(), v));
        byTarget.forEach((k, v) -> b.append(String.format("  to %-20s %d pending or in flight%n", k, v)));
        if (outbox instanceof SqliteOutbox so) {
            new TreeMap<>(so.inboxCounters()).forEach((k, v) -> b.append(String.format("%s %d%n", k, v)));
        }
        return b.toString();
    }

    /** Dead messages, oldest first (at most 100). */
    public String dead() {
        List<OutboxMessage> rows = outbox.list(OutboxState.DEAD, 100);
        if (rows.isEmpty()) {
            return "no dead messages\n";
        }
        StringBuilder b = new StringBuilder();
        for (OutboxMessage m : rows) {
            b.append(String.format("%s to %s topic %s attempts %d: %s%n", m.messageId(), m.target(), m.topic(), m.attempts(),
                    m.lastError().orElse("")));
        }
        return b.toString();
    }

    /** Puts a dead or aborted message back to pending. */
    public String retry(String id) {
        return outbox.retry(id) ? id + " is pending again\n" : id + " is not dead or aborted\n";
    }

    /** Gives up on a pending or dead message. */
    public String abort(String id) {
        return outbox.abort(id) ? id + " aborted\n" : id + " is not pending or dead\n";
    }
}
