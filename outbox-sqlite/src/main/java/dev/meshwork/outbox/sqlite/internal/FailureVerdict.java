package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import java.util.Set;

/**
 * What a failed delivery attempt does to its row: the one place that decides whether a row may
 * die. A row dies only by its retry policy (the attempt cap, counted by {@link #RETRY}) or by a
 * refusal that is permanent for reasons of the message itself.
 *
 * <table>
 *   <caption>Verdicts</caption>
 *   <tr><th>verdict</th><th>failures</th><th>row</th></tr>
 *   <tr><td>{@link #DEAD}</td><td>permanent {@code PAYLOAD_TOO_LARGE}, {@code UNKNOWN_TOPIC}
 *       (at the target)</td><td>DEAD at once</td></tr>
 *   <tr><td>{@link #RELEASE}</td><td>{@code SHUT_DOWN}: the local node or router is stopping</td>
 *       <td>PENDING after a backoff, the attempt not counted</td></tr>
 *   <tr><td>{@link #RETRY}</td><td>everything else, retryable or not: {@code UNKNOWN_PEER} from
 *       the local router (configuration is applied late or changes), {@code UNTRUSTED}, a
 *       timeout, an exception of no known type</td><td>PENDING after a backoff; DEAD once the
 *       attempt cap is reached</td></tr>
 * </table>
 *
 * <p>Why permanent-but-retried codes exist: the router calls {@code UNKNOWN_PEER} permanent for
 * a best-effort send, but for a durable row it says only that this node's configuration does not
 * hold the target <em>now</em> (it is starting, or a peer was removed and may come back).
 */
enum FailureVerdict {
    /** Counted attempt: back to PENDING with backoff, or DEAD at the attempt cap. */
    RETRY,
    /** Not the message's fault and not an attempt: back to PENDING with backoff, never DEAD. */
    RELEASE,
    /** Permanent for the message itself: DEAD now. */
    DEAD;

    private static final Set<FailureCode> FATAL_TO_THE_MESSAGE = Set.of(FailureCode.PAYLOAD_TOO_LARGE, FailureCode.UNKNOWN_TOPIC);

    /** The verdict on one failed attempt ({@code cause} already unwrapped from completion wrappers). */
    static FailureVerdict of(Throwable cause) {
        if (!(cause instanceof MeshworkException me)) {
            return RETRY;
        }
        if (me.code() == FailureCode.SHUT_DOWN) {
            return RELEASE;
        }
        return !me.isRetryable() && FATAL_TO_THE_MESSAGE.contains(me.code()) ? DEAD : RETRY;
    }
}
