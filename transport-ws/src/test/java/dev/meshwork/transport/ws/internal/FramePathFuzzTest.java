package dev.meshwork.transport.ws.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.util.ReferenceCountUtil;

/**
 * Fuzzes the server's inbound frame path: raw bytes after the upgrade through Netty's frame
 * decoder (limit enforced on the declared length), the fragment aggregator and the message
 * decoder. Every input must end in a message, a typed refusal, or a wait for more bytes; any other
 * exception is a bug. (Decoding the protocol inside a message is the node core's: its fuzz test is
 * transport-multichannel's {@code FrameCodecFuzzTest}.)
 *
 * <p>{@code ./mvnw verify} runs it in fuzzing mode for a few seconds ({@code JAZZER_FUZZ=1} and
 * {@code maxDuration} below). A longer run:
 * {@code JAZZER_FUZZ=1 ./mvnw -pl transport-ws -am verify -Dtest=FramePathFuzzTest -Djazzer.max_duration=30m}
 * (or raise {@code maxDuration}); findings land in {@code src/test/resources/.../FramePathFuzzTestInputs}
 * and are replayed as regression inputs by every later build.
 */
class FramePathFuzzTest {

    private static final int LIMIT = 4096;

    @FuzzTest(maxDuration = "15s")
    void serverFramePathNeverFailsUntyped(byte[] input) {
        EmbeddedChannel channel = new EmbeddedChannel(
                new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(LIMIT)
                        .expectMaskedFrames(true).allowMaskMismatch(false).closeOnProtocolViolation(true).build()),
                new WebSocketFrameAggregator(LIMIT),
                new FrameDecoder());
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
        } catch (CorruptedFrameException | TooLongFrameException expected) {
            // protocol violation or over the limit: the connection is closed with 1002/1007/1009
        } catch (DecoderException e) {
            if (!(e.getCause() instanceof FrameDecoder.BadPayloadException)
                    && !(e.getCause() instanceof CorruptedFrameException)
                    && !(e.getCause() instanceof TooLongFrameException)) {
                throw e;
            }
        } finally {
            Object msg;
            while ((msg = channel.readInbound()) != null) {
                ReferenceCountUtil.release(msg);
            }
            while ((msg = channel.readOutbound()) != null) {
                ReferenceCountUtil.release(msg);
            }
            try {
                channel.finishAndReleaseAll();
            } catch (io.netty.handler.codec.PrematureChannelClosureException expected) {
                // closing mid-fragment: the aggregator reports it, the real pipeline then closes the connection
            }
        }
    }
}
