package dev.meshwork.api.outbox;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A durable queue of messages to other nodes, delivered at least once and deduplicated by the
 * receiver, so the receiving {@link dev.meshwork.api.router.MessageHandler} sees each message once.
 *
 * <p>The receiving handler is an ordinary {@code MessageHandler} registered for the message's
 * topic on the target node. <b>At least once:</b> the receiver's inbox removes duplicates within
 * its retention window, except after a receiver crash while the handler ran: such a message is
 * delivered again (whether its handler finished is unknown), so handlers must be idempotent or
 * tolerate that redelivery.
 *
 * <p><b>Lifecycle contract</b> (see {@code docs/lifecycle.md}): a message whose enqueue returned
 * never dies across starts, stops and crashes of either node. It becomes {@link OutboxState#DEAD}
 * only by its retry policy (the attempt cap) or by a refusal that is permanent for reasons of the
 * message itself ({@code PAYLOAD_TOO_LARGE}, {@code UNKNOWN_TOPIC} at the target). Failures of the
 * local node (the router not ready yet, a peer unknown to the local router, the node stopping)
 * are retried. The drain does not start until the {@link dev.meshwork.api.router.Router} is
 * {@linkplain dev.meshwork.api.router.Router#isReady() ready}; stopping leaves rows in flight to
 * be sent again at the next start.
 *
 * <p><b>Threading:</b> thread-safe. {@link #enqueue} blocks until the message is durable;
 * concurrent callers are committed together. <b>Failure:</b> methods throw a
 * {@link dev.meshwork.api.PermanentException} ({@code PAYLOAD_TOO_LARGE}, {@code UNKNOWN_PEER}
 * only for a target the ready router is not configured with, {@code IDEMPOTENCY_CONFLICT},
 * {@code STORAGE_UNAVAILABLE}) or a
 * {@link dev.meshwork.api.RetryableException} ({@code STORAGE_FULL}, {@code SHUT_DOWN}); a
 * message whose enqueue failed was not stored, not even in part.
 */
@ProviderType
public interface Outbox {

    /**
     * Stores a message for delivery and returns once it is durable.
     *
     * <p>A repeated idempotency key with the same target, topic and payload returns the existing
     * message's id (with {@link OutboxReceipt#duplicate()} set); with different content it fails
     * with {@code IDEMPOTENCY_CONFLICT}.
     */
    OutboxReceipt enqueue(OutboxRequest request);

    /** As {@link #enqueue}, completing once the message is durable. */
    CompletableFuture<OutboxReceipt> enqueueAsync(OutboxRequest request);

    Optional<OutboxMessage> get(String messageId);

    /** Messages in {@code state}, oldest first, at most {@code limit}. */
    List<OutboxMessage> list(OutboxState state, int limit);

    /**
     * Puts a dead or aborted message back to pending with a fresh attempt count.
     *
     * @return whether the message was dead or aborted
     */
    boolean retry(String messageId);

    /**
     * Gives up on a pending or dead message; it will not be sent again.
     *
     * @return whether the message was pending or dead
     */
    boolean abort(String messageId);

    /** Removes done messages older than {@code age}; returns how many. */
    int purgeDone(Duration age);

    OutboxStats stats();
}
