package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.outbox.sqlite.internal.store.Writer;
import java.sql.PreparedStatement;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of the outbox: the {@link MessageHandler} for {@code meshwork.outbox}. It
 * records each message id in the inbox table, hands the inner message to the handlers of its
 * real topic through {@link Router#deliverLocally}, and completes (so the router sends the ack)
 * only once the inbox record is durable. A duplicate is acknowledged without being delivered.
 *
 * <h2>Order: record first, then the handler</h2>
 * <ol>
 *   <li>If the same id is already being processed (a re-send overtook a slow first attempt),
 *       the duplicate's ack simply follows the first attempt's outcome.</li>
 *   <li>{@code INSERT OR IGNORE} the id ({@code delivered = 0}), group-committed. No row
 *       inserted means it was seen before: acknowledge, do not deliver.</li>
 *   <li>Deliver to the real topic's handlers. On success, acknowledge, and mark the record
 *       {@code delivered = 1} in a later batch (nobody waits for it). On failure, delete the
 *       record (durably) and fail, so the sender retries.</li>
 * </ol>
 *
 * <p>Why record first: the handler then runs only for an id that is durably claimed, so no
 * re-send, sender restart or duplicated frame ever reaches it twice within the retention
 * window. Recording after the handler would redeliver whenever the process died between the
 * handler and the commit.
 *
 * <p><b>Crash behaviour.</b> A sender crash is harmless (its in-flight rows are re-sent and
 * dropped here as duplicates). A <em>receiver</em> crash while a handler runs leaves records with
 * {@code delivered = 0}: whether the handler finished is unknown. By default
 * ({@code redeliverInDoubt=true}) they are forgotten at start and counted as {@code inDoubt}
 * with one log line: the sender's re-send is delivered again (at-least-once; the handler may see
 * such a message twice, so handlers must be idempotent). {@code redeliverInDoubt=false} keeps
 * them instead: never a duplicate, but a message whose handler was interrupted is lost.
 */
public final class InboxReceiver implements MessageHandler {

    private static final Logger LOG = LoggerFactory.getLogger(InboxReceiver.class);

    private final OutboxConfig config;
    private final Writer writer;
    private final Supplier<Router> router;
    private final InstantSource clock;
    private final Map<String, CompletableFuture<Void>> inProgress = new ConcurrentHashMap<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong inDoubt = new AtomicLong();

    InboxReceiver(OutboxConfig config, Writer writer, Supplier<Router> router, InstantSource clock) {
        this.config = config;
        this.writer = writer;
        this.router = router;
        this.clock = clock;
    }

    /** Settles records a crashed receiver left in doubt, and prunes old ones. */
    void start() {
        boolean forget = config.redeliverInDoubt();
        int n = OutboxService.await(writer.submit(tx -> {
            PreparedStatement ps = tx.prepare(forget ? "DELETE FROM inbox WHERE delivered = 0"
                    : "UPDATE inbox SET delivered = 2 WHERE delivered = 0");
            return ps.executeUpdate();
        }));
        if (n > 0) {
            inDoubt.set(n);
            LOG.warn("outbox inbox: {} messages were being handled when this node last stopped; {}", n,
                    forget ? "they will be delivered again if re-sent (redeliverInDoubt=true)"
                            : "they will not be delivered again (set redeliverInDoubt=true for at-least-once)");
        }
        prune();
    }

    @Override
    public CompletionStage<Void> onMessage(InboundMessage message) {
        Envelope inner;
        try {
            inner = DeliveryCodec.decode(message.payload());
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            return CompletableFuture.failedFuture(e);
        }
        String id = message.messageId();
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> earlier = inProgress.putIfAbsent(id, mine);
        if (earlier != null) {
            duplicates.incrementAndGet();
            return earlier.copy();
        }
        Router r = router.get();
        if (r == null) {
            inProgress.remove(id, mine);
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.SHUT_DOWN, "no router to deliver locally"));
        }
        long now = clock.millis();
        writer.submit(tx -> {
            PreparedStatement ps = tx.prepare("INSERT OR IGNORE INTO inbox(message_id, source, received_at, delivered) VALUES (?, ?, ?, 0)");
            ps.setString(1, id);
            ps.setString(2, message.source().value());
            ps.setLong(3, now);
            return ps.executeUpdate() == 1;
        }).thenCompose(fresh -> {
            if (!fresh) {
                duplicates.incrementAndGet();
                return CompletableFuture.<Void>completedFuture(null);
            }
            InboundMessage unwrapped = new InboundMessage(id, message.source(), inner.getTopic(), inner.getPayload().toByteArray(),
                    merge(message.headers(), inner.getHeadersMap()), message.relayedBy(), message.receivedAt());
            CompletableFuture<Void> handled;
            try {
                handled = r.deliverLocally(unwrapped);
            } catch (RuntimeException e) {
                handled = CompletableFuture.failedFuture(e);
            }
            return handled.handle((v, err) -> err).thenCompose(err -> {
                if (err == null) {
                    delivered.incrementAndGet();
                    writer.submitInline(tx -> {
                        PreparedStatement ps = tx.batch("UPDATE inbox SET delivered = 1 WHERE message_id = ?");
                        ps.setString(1, id);
                        ps.addBatch();
                        return null;
                    });
                    return CompletableFuture.<Void>completedFuture(null);
                }
                failed.incrementAndGet();
                return writer.submit(tx -> {
                    PreparedStatement ps = tx.prepare("DELETE FROM inbox WHERE message_id = ?");
                    ps.setString(1, id);
                    return ps.executeUpdate();
                }).handle((n, delErr) -> {
                    if (delErr != null) {
                        LOG.error("outbox inbox could not forget message {} after its handler failed; it will not be redelivered: {}",
                                id, delErr.getMessage());
                    }
                    throw retryableIfHandlerMissing(OutboxService.unwrap(err), unwrapped.topic());
                });
            });
        }).whenComplete((v, err) -> {
            inProgress.remove(id, mine);
            if (err == null) {
                mine.complete(null);
            } else {
                mine.completeExceptionally(OutboxService.unwrap(err));
            }
        });
        return mine;
    }

    /**
     * A durable message whose handler is not registered (yet) waits for it: the handler's bundle
     * may be starting or being updated, and a durable message must not go dead for that. The
     * sender retries with backoff until its attempt cap.
     */
    static RuntimeException retryableIfHandlerMissing(RuntimeException error, String topic) {
        if (error instanceof PermanentException p && p.code() == FailureCode.UNKNOWN_TOPIC) {
            return new RetryableException(FailureCode.UNKNOWN_TOPIC,
                    "no handler for topic '" + topic + "' on this node yet; the sender retries", p);
        }
        return error;
    }

    private static Map<String, String> merge(Map<String, String> outer, Map<String, String> inner) {
        if (inner.isEmpty()) {
            return outer;
        }
        Map<String, String> m = new java.util.HashMap<>(outer);
        m.putAll(inner);
        return m;
    }

    /** Forgets ids older than the retention window; returns how many. */
    int prune() {
        long before = clock.millis() - config.inboxRetention().toMillis();
        return OutboxService.await(writer.submit(tx -> {
            PreparedStatement ps = tx.prepare("DELETE FROM inbox WHERE received_at < ?");
            ps.setLong(1, before);
            return ps.executeUpdate();
        }));
    }

    /** Inbox counters: delivered, duplicates acknowledged without delivery, failed, in doubt at start. */
    Map<String, Long> counters() {
        return Map.of("inbox.delivered", delivered.get(), "inbox.duplicates", duplicates.get(), "inbox.failed", failed.get(),
                "inbox.inDoubt", inDoubt.get());
    }
}
