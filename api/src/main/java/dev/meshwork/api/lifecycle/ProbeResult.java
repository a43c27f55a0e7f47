package dev.meshwork.api.lifecycle;

import java.util.Objects;

/**
 * The answer of one {@link Probe} run. Immutable.
 *
 * @param ok     whether the gateway passed
 * @param detail what was seen, in plain words
 */
public record ProbeResult(boolean ok, String detail) {

    public ProbeResult {
        Objects.requireNonNull(detail, "detail");
    }

    public static ProbeResult ok(String detail) {
        return new ProbeResult(true, detail);
    }

    public static ProbeResult failed(String detail) {
        return new ProbeResult(false, detail);
    }
}
