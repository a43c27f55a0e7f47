package dev.meshwork.transport.multichannel.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.wire.Frame;

/**
 * Fuzzes the core's frame decoding (moved here from transport-ws when transports became
 * byte-oriented): every input ends in a frame that encodes back to a frame equal to it, or in a
 * typed refusal; any other exception is a bug.
 *
 * <p>{@code ./mvnw verify} runs it in fuzzing mode for a few seconds ({@code JAZZER_FUZZ=1} in the
 * pom's {@code fuzz} execution). A longer run:
 * {@code JAZZER_FUZZ=1 ./mvnw -pl transport-multichannel -am verify -Dtest=FrameCodecFuzzTest -Djazzer.max_duration=30m};
 * findings land in {@code src/test/resources/.../FrameCodecFuzzTestInputs} and are replayed by
 * every later build.
 */
class FrameCodecFuzzTest {

    private final FrameCodec codec = new FrameCodec(4096);

    @FuzzTest(maxDuration = "10s")
    void decodingEndsInAFrameOrATypedRefusal(byte[] input) {
        Frame frame;
        try {
            frame = codec.decode(input);
        } catch (PermanentException e) {
            if (e.code() != FailureCode.PROTOCOL_VIOLATION && e.code() != FailureCode.PAYLOAD_TOO_LARGE) {
                throw e;
            }
            return;
        }
        Frame again = new FrameCodec(Integer.MAX_VALUE).decode(FrameCodec.encode(frame));
        if (!again.equals(frame)) {
            throw new AssertionError("re-encoding changed the frame: " + frame + " became " + again);
        }
    }
}
