package dev.meshwork.api;

import java.util.Objects;

/**
 * Base of every failure a Meshwork service reports, either thrown or as the cause of a failed
 * completion. Unchecked, because most failures arrive through {@link java.util.concurrent.CompletionStage}s.
 *
 * <p>The two subclasses are the contract: a {@link RetryableException} may succeed if tried again
 * later, a {@link PermanentException} will not until something (configuration, input) changes.
 */
public abstract sealed class MeshworkException extends RuntimeException
        permits RetryableException, PermanentException {

    private static final long serialVersionUID = 1L;

    private final FailureCode code;

    protected MeshworkException(FailureCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** Which failure this is. */
    public FailureCode code() {
        return code;
    }

    /** Whether trying again later may succeed. */
    public abstract boolean isRetryable();

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + code + "]: " + getMessage();
    }
}
