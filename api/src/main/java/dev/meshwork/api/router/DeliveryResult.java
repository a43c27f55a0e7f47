package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.time.Duration;
import java.util.Objects;

/**
 * The outcome of a successful {@link Router#send}. Immutable.
 *
 * @param messageId    the id the message travelled under
 * @param target       the node it was sent to
 * @param route        how it went (direct over which channel, or through which relay)
 * @param acknowledged whether the target acknowledged it (false when no ack was asked for)
 * @param elapsed      from the call of send to completion
 */
public record DeliveryResult(String messageId, NodeId target, Route route, boolean acknowledged, Duration elapsed) {

    public DeliveryResult {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(elapsed, "elapsed");
    }
}
