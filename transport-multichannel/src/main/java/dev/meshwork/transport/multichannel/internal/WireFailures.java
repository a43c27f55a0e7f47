package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.wire.Ack;
import java.util.EnumMap;
import java.util.Map;

/**
 * Maps the api's {@link FailureCode} to the wire's {@code meshwork.wire.FailureCode} and back, by
 * name: codes are data on the wire, never parsed out of text.
 *
 * <p>A wire code this node does not know (a newer peer's), or UNSPECIFIED on a failed ack, reads
 * as {@link FailureCode#INTERNAL}.
 */
final class WireFailures {

    private static final Map<FailureCode, dev.meshwork.api.wire.FailureCode> TO_WIRE = new EnumMap<>(FailureCode.class);
    private static final Map<dev.meshwork.api.wire.FailureCode, FailureCode> FROM_WIRE =
            new EnumMap<>(dev.meshwork.api.wire.FailureCode.class);

    static {
        for (FailureCode code : FailureCode.values()) {
            for (dev.meshwork.api.wire.FailureCode wire : dev.meshwork.api.wire.FailureCode.values()) {
                if (wire.name().equals(code.name())) {
                    TO_WIRE.put(code, wire);
                    FROM_WIRE.put(wire, code);
                }
            }
        }
    }

    private WireFailures() {
    }

    /** The wire code of {@code code}; INTERNAL if the wire has none (a code added to the api but not to wire.proto). */
    static dev.meshwork.api.wire.FailureCode toWire(FailureCode code) {
        return TO_WIRE.getOrDefault(code, dev.meshwork.api.wire.FailureCode.INTERNAL);
    }

    /** The api code of a wire code; INTERNAL for UNSPECIFIED and for numbers this node does not know. */
    static FailureCode fromWire(dev.meshwork.api.wire.FailureCode code) {
        return FROM_WIRE.getOrDefault(code, FailureCode.INTERNAL);
    }

    /** Fills a failed ack: the typed code, the retry verdict and the text as human detail only. */
    static Ack.Builder failed(Ack.Builder ack, FailureCode code, String detail, boolean retryable) {
        return ack.setOk(false).setCode(toWire(code)).setError(detail).setRetryable(retryable);
    }

    /** The failure a refusing ack reports, typed by its code and retry verdict. */
    static MeshworkException failureOf(Ack ack) {
        FailureCode code = fromWire(ack.getCode());
        String text = "refused by " + ack.getFrom() + ": " + code + ": " + ack.getError();
        return ack.getRetryable() ? new RetryableException(code, text) : new PermanentException(code, text);
    }
}
