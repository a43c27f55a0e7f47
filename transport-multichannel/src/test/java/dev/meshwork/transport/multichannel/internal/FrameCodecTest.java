package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Ping;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private final FrameCodec codec = new FrameCodec(256);

    @Test
    void decodesWhatItEncodes() {
        Frame frame = Frame.newBuilder().setPing(Ping.newBuilder().setId(7).setSentNanos(42)).build();
        assertEquals(frame, codec.decode(FrameCodec.encode(frame)));
    }

    @Test
    void refusesAValidFrameAboveTheCapAsTooLarge() {
        byte[] big = FrameCodec.encode(Frame.newBuilder().setEnvelope(Envelope.newBuilder()
                .setPayload(ByteString.copyFrom(new byte[300]))).build());
        PermanentException e = assertThrows(PermanentException.class, () -> codec.decode(big));
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, e.code());
    }

    @Test
    void acceptsAFrameOfExactlyTheCap() {
        Frame frame = Frame.newBuilder().setEnvelope(Envelope.newBuilder().setPayload(ByteString.copyFrom(new byte[250]))).build();
        byte[] bytes = FrameCodec.encode(frame);
        assertEquals(frame, new FrameCodec(bytes.length).decode(bytes));
    }

    @Test
    void refusesTruncatedOrGarbageBytesAsAProtocolViolation() {
        byte[] whole = FrameCodec.encode(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setMessageId("m1")
                .setPayload(ByteString.copyFromUtf8("hello"))).build());
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 2);
        for (byte[] bad : new byte[][] {truncated, {(byte) 0xff, (byte) 0xff, (byte) 0xff}, {0x0f}}) {
            PermanentException e = assertThrows(PermanentException.class, () -> codec.decode(bad));
            assertEquals(FailureCode.PROTOCOL_VIOLATION, e.code());
        }
    }
}
