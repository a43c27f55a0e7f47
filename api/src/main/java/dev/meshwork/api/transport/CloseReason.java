package dev.meshwork.api.transport;

import java.util.Objects;
import java.util.Optional;

/**
 * Why a {@link Connection} closed. Immutable.
 *
 * <p>{@link #intentional()} is the one bit the router acts on: an intentional close (normal
 * closure, a Goodbye, a local shutdown) is not followed by an automatic reconnect at the normal
 * pace; every other kind is a failure and is.
 *
 * @param kind    the class of close
 * @param code    the WebSocket close code (RFC 6455 §7.4) sent or received, or 1006 when none was
 * @param text    the close reason text, possibly empty
 * @param byPeer  whether the remote side initiated the close
 * @param cause   the failure behind it, if any
 */
public record CloseReason(Kind kind, int code, String text, boolean byPeer, Optional<Throwable> cause) {

    /** Normal closure (1000). */
    public static final int NORMAL = 1000;
    /** Going away: the endpoint shuts down (1001). */
    public static final int GOING_AWAY = 1001;
    /** Protocol error (1002). */
    public static final int PROTOCOL_ERROR = 1002;
    /** Data of a type the endpoint does not accept, e.g. text where binary is expected (1003). */
    public static final int UNSUPPORTED_DATA = 1003;
    /** Closed abnormally, no close frame (1006); never sent on the wire. */
    public static final int ABNORMAL = 1006;
    /** Invalid payload data, e.g. bad UTF-8 (1007). */
    public static final int INVALID_PAYLOAD = 1007;
    /** Policy violation (1008). */
    public static final int POLICY_VIOLATION = 1008;
    /** Message too big (1009). */
    public static final int MESSAGE_TOO_BIG = 1009;
    /** Internal error (1011). */
    public static final int INTERNAL_ERROR = 1011;

    /** The class of a close. */
    public enum Kind {
        /** Closed on purpose by either side (normal closure or Goodbye). */
        NORMAL(true),
        /** This process is shutting the connection down (bundle stop, listener close). */
        LOCAL_SHUTDOWN(true),
        /** Nothing arrived within the stale threshold (half-open link). */
        STALE(false),
        /** The peer broke the protocol (malformed or unexpected frames). */
        PROTOCOL_ERROR(false),
        /** A message exceeded the size limit. */
        TOO_BIG(false),
        /** The socket failed or was closed without a close frame (reset, EOF). */
        ERROR(false);

        private final boolean intentional;

        Kind(boolean intentional) {
            this.intentional = intentional;
        }

        public boolean intentional() {
            return intentional;
        }
    }

    public CloseReason {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(cause, "cause");
    }

    /** Whether the close was deliberate, so no automatic reconnect should follow. */
    public boolean intentional() {
        return kind.intentional();
    }

    public static CloseReason normal(int code, String text, boolean byPeer) {
        return new CloseReason(Kind.NORMAL, code, text, byPeer, Optional.empty());
    }

    public static CloseReason stale(String text) {
        return new CloseReason(Kind.STALE, ABNORMAL, text, false, Optional.empty());
    }

    public static CloseReason error(String text, Throwable cause) {
        return new CloseReason(Kind.ERROR, ABNORMAL, text, false, Optional.ofNullable(cause));
    }
}
