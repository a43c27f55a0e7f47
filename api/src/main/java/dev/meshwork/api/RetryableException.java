package dev.meshwork.api;

/** A failure that may go away if the same operation is tried again later (refused, reset, timeout…). */
public final class RetryableException extends MeshworkException {

    private static final long serialVersionUID = 1L;

    public RetryableException(FailureCode code, String message) {
        super(code, message, null);
    }

    public RetryableException(FailureCode code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
