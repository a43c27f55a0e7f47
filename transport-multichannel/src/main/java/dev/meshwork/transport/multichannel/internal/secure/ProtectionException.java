package dev.meshwork.transport.multichannel.internal.secure;

/** A transport message that failed the secure channel's checks: the connection must close. */
public final class ProtectionException extends Exception {

    private static final long serialVersionUID = 1L;

    public ProtectionException(String message) {
        super(message, null, false, false);
    }
}
