package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.wire.Ack;
import org.junit.jupiter.api.Test;

class WireFailuresTest {

    @Test
    void everyApiCodeHasAWireCodeOfTheSameNameAndComesBackUnchanged() {
        for (FailureCode code : FailureCode.values()) {
            dev.meshwork.api.wire.FailureCode wire = WireFailures.toWire(code);
            assertEquals(code.name(), wire.name(), "wire.proto's FailureCode lacks " + code);
            assertEquals(code, WireFailures.fromWire(wire));
        }
        assertEquals(FailureCode.values().length + 1, dev.meshwork.api.wire.FailureCode.values().length - 1,
                "UNSPECIFIED and UNRECOGNIZED beside the api's codes, nothing else");
    }

    @Test
    void aFailedAckCarriesTheTypedCodeAndTheTextOnlyAsDetail() throws Exception {
        Ack sent = WireFailures.failed(Ack.newBuilder().setMessageId("m1").setFrom("beta"), FailureCode.UNKNOWN_TOPIC,
                "UNREACHABLE_PEER: no handler", false).build();
        Ack received = Ack.parseFrom(sent.toByteArray());
        MeshworkException failure = WireFailures.failureOf(received);
        assertInstanceOf(PermanentException.class, failure);
        assertEquals(FailureCode.UNKNOWN_TOPIC, failure.code(), "the code, not a code-like prefix of the text");
        assertTrue(failure.getMessage().contains("no handler"), failure.getMessage());
    }

    @Test
    void aCodeFromANewerPeerOrNoCodeReadsAsInternal() throws Exception {
        Ack unknown = Ack.parseFrom(Ack.newBuilder().setMessageId("m").setOk(false).setRetryable(true).setCodeValue(999)
                .build().toByteArray());
        MeshworkException failure = WireFailures.failureOf(unknown);
        assertInstanceOf(RetryableException.class, failure);
        assertEquals(FailureCode.INTERNAL, failure.code());
        assertEquals(FailureCode.INTERNAL, WireFailures.failureOf(Ack.newBuilder().setOk(false).build()).code());
    }
}
