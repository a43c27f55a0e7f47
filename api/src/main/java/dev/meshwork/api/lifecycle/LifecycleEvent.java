package dev.meshwork.api.lifecycle;

import java.time.Instant;
import java.util.Objects;

/**
 * One transition of a supervised gateway. Immutable.
 *
 * @param gateway the gateway's name
 * @param from    the state before
 * @param to      the state after
 * @param epoch   the start epoch the transition belongs to (increases with every start)
 * @param at      when it happened
 * @param reason  why, in plain words
 */
public record LifecycleEvent(String gateway, LifecycleState from, LifecycleState to, long epoch, Instant at, String reason) {

    public LifecycleEvent {
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(reason, "reason");
    }
}
