package dev.meshwork.transport.multichannel.internal.secure;

/** A transport message that failed the secure channel's checks: the connection must close. */
public final class ProtectionException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String counter;

    public ProtectionException(String counter, String message) {
        super(message, null, false, false);
        this.counter = counter;
    }

    /** The node counter this failure is counted under. */
    public String counter() {
        return counter;
    }
}
