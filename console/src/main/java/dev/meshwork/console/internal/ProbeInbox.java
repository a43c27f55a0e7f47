package dev.meshwork.console.internal;

import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Component;

/**
 * Receives messages on the topic {@value #TOPIC} so an operator (or the demo, or an end-to-end
 * test) can prove delivery through the console: {@code POST /send} or {@code POST /outbox} on one
 * node, then read the count on another's {@code /status.json}. It counts deliveries and distinct
 * message ids, so a duplicate that reached the handler shows as a difference.
 */
@Component(service = {MessageHandler.class, ProbeInbox.class}, property = MessageHandler.TOPIC + "=" + ProbeInbox.TOPIC)
public final class ProbeInbox implements MessageHandler {

    static final String TOPIC = "meshwork.console.probe";
    private static final int RECENT = 20;
    private static final int DISTINCT_LIMIT = 1_000_000;

    private long deliveries;
    private final Set<String> distinct = new HashSet<>();
    private final Deque<Map<String, Object>> recent = new ArrayDeque<>();

    @Override
    public synchronized CompletionStage<Void> onMessage(InboundMessage message) {
        deliveries++;
        if (distinct.size() < DISTINCT_LIMIT) {
            distinct.add(message.messageId());
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("id", message.messageId());
        entry.put("source", message.source().value());
        entry.put("bytes", message.payload().length);
        entry.put("relayedBy", message.relayedBy().map(n -> n.value()));
        entry.put("at", message.receivedAt().toString());
        recent.addFirst(entry);
        if (recent.size() > RECENT) {
            recent.removeLast();
        }
        return CompletableFuture.completedFuture(null);
    }

    /** Deliveries, distinct ids and the latest messages, for the status document. */
    synchronized Map<String, Object> summary() {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("topic", TOPIC);
        summary.put("deliveries", deliveries);
        summary.put("distinct", distinct.size());
        summary.put("recent", List.copyOf(recent));
        return summary;
    }
}
