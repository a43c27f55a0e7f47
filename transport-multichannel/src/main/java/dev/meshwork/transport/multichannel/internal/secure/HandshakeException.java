package dev.meshwork.transport.multichannel.internal.secure;

/** A handshake message or payload that must end the handshake; the message says why, for the log line. */
public final class HandshakeException extends Exception {

    private static final long serialVersionUID = 1L;

    public HandshakeException(String message) {
        super(message, null, false, false);
    }
}
