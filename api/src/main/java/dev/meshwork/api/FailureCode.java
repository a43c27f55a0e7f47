package dev.meshwork.api;

/**
 * What went wrong, in a form a program can switch on. Whether a failure may be retried is carried
 * by the exception's type ({@link RetryableException} or {@link PermanentException}); the code
 * says which failure it was.
 */
public enum FailureCode {
    /** The remote end refused the TCP connection. */
    CONNECTION_REFUSED,
    /** The connection was reset or closed by the peer while in use. */
    CONNECTION_RESET,
    /** A connect, handshake, hello or acknowledgement did not finish in time. */
    TIMEOUT,
    /** No route to the host or the address could not be resolved. */
    UNREACHABLE,
    /** The TLS handshake was interrupted (not a certificate rejection). */
    TLS_HANDSHAKE,
    /** The connection closed before the operation completed. */
    CLOSED,
    /** A URL, address or configuration value is malformed. */
    MALFORMED_URL,
    /** The server's or client's certificate was rejected. */
    CERTIFICATE_REJECTED,
    /** The HTTP upgrade was refused with a 4xx status. */
    UPGRADE_REFUSED,
    /** The peer broke the wire protocol. */
    PROTOCOL_VIOLATION,
    /** No transport is registered for the URL's scheme. */
    UNSUPPORTED_SCHEME,
    /** The peer's key is not trusted, or its signature did not verify. */
    UNTRUSTED,
    /** The URL leads back to this node. */
    SELF_CONNECTION,
    /** A message or frame exceeds the configured size limit. */
    PAYLOAD_TOO_LARGE,
    /** A bounded queue is full; the message was not accepted. */
    QUEUE_FULL,
    /** The message's time to live ran out before it was delivered. */
    EXPIRED,
    /** The target node is not known to this node. */
    UNKNOWN_PEER,
    /** The target node is known but no direct or relayed route reaches it now. */
    UNREACHABLE_PEER,
    /** No handler is registered for the topic at the receiver. */
    UNKNOWN_TOPIC,
    /** The receiving handler failed. */
    HANDLER_FAILED,
    /** The hop limit ran out while relaying. */
    HOP_LIMIT_EXCEEDED,
    /** A peer exceeded its rate budget. */
    RATE_LIMITED,
    /** An idempotency key was reused with different content. */
    IDEMPOTENCY_CONFLICT,
    /** The storage is full (for example SQLITE_FULL). */
    STORAGE_FULL,
    /** The storage cannot be written (read-only or corrupt). */
    STORAGE_UNAVAILABLE,
    /** The service or component is stopping or stopped. */
    SHUT_DOWN,
    /** The operation was cancelled by its caller. */
    CANCELLED,
    /** The operation is not valid in the current state. */
    ILLEGAL_STATE,
    /** A failure the other codes do not describe; the message says more. */
    INTERNAL
}
