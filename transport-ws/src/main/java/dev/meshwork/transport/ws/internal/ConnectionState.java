package dev.meshwork.transport.ws.internal;

/**
 * The lifecycle of one {@link WsConnection}; only {@link WsConnection} moves it, on the event loop.
 *
 * <pre>
 *   OPEN ──close(), peer close frame, protocol error──▶ CLOSING ──socket closed──▶ CLOSED
 *     └──────────────socket closed / stale (no close frame possible)──────────────▶ CLOSED
 * </pre>
 *
 * <p>The close reason is decided on the first edge out of {@code OPEN} and never changed, so a
 * late socket error cannot turn an intentional close into a failure.
 */
enum ConnectionState {
    /** Messages flow both ways. */
    OPEN,
    /**
     * A close frame was sent or received (or a fatal frame arrived); waiting for the socket to
     * close. Sends fail, and nothing received any more is dispatched.
     */
    CLOSING,
    /** The socket is closed and {@code onClosed} was delivered. Terminal. */
    CLOSED
}
