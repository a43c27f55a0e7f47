package dev.meshwork.api.router;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives messages addressed to this node, by topic. A whiteboard service: register it with the
 * property {@link #TOPIC} (a String or String[]) and the router finds it.
 *
 * <p><b>Threading:</b> called off the I/O threads, one message at a time per source peer, in the
 * order the peer sent them. A handler that blocks delays only later messages of the same peer,
 * never the link itself. <b>Acknowledgement:</b> when the sender asked for an ack, it is sent
 * when the returned stage completes; a failed stage, or an exception thrown here, is reported to
 * the sender as {@code HANDLER_FAILED}. Every handler registered for a topic receives each message.
 *
 * <p><b>Redelivery:</b> a message sent through the {@link dev.meshwork.api.outbox.Outbox} is
 * delivered at least once. The receiver's inbox drops duplicates by message id, but a message
 * whose handler was running when the receiving node crashed is delivered again after the restart
 * (whether the handler finished is unknown then). A handler must therefore be idempotent, or
 * tolerate that one redelivery (for example by keying its effects on
 * {@link InboundMessage#messageId()}).
 */
@ConsumerType
@FunctionalInterface
public interface MessageHandler {

    /** Service property: the topics this handler receives (String or String[]). */
    String TOPIC = "meshwork.topic";

    /**
     * Handles one message.
     *
     * @return a stage that completes when the message has been processed; a handler that works
     *         synchronously returns {@code CompletableFuture.completedFuture(null)}
     */
    CompletionStage<Void> onMessage(InboundMessage message) throws Exception;
}
