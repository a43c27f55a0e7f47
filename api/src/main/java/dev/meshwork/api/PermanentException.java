package dev.meshwork.api;

/**
 * A failure that will repeat until something changes: a malformed URL, a rejected certificate, an
 * untrusted key, an upgrade refused with 4xx, a protocol violation, an idempotency conflict.
 */
public final class PermanentException extends MeshworkException {

    private static final long serialVersionUID = 1L;

    public PermanentException(FailureCode code, String message) {
        super(code, message, null);
    }

    public PermanentException(FailureCode code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public boolean isRetryable() {
        return false;
    }
}
