package dev.meshwork.transport.multichannel.internal;

import java.util.List;
import java.util.Map;

/**
 * Caps on what an authenticated peer controls besides the payload (bounded by
 * {@link RouterSettings#maxPayloadBytes()}): everything here is kept in memory for a while (message
 * ids in the dedup windows for {@link RouterSettings#dedupWindow()}, claims in
 * {@link NeighbourClaims}), so a trusted peer must not be able to make it large. The sender applies
 * the same caps before it queues, so an honest node never learns of them from a refusal.
 *
 * <p>Node ids need no cap of their own: {@link dev.meshwork.api.NodeId} admits at most 64
 * characters, and an invalid one is refused or ignored where it is read.
 *
 * @param maxMessageIdChars characters of a message id
 * @param maxTopicChars     characters of a topic
 * @param maxHeaders        header entries of one message
 * @param maxHeaderBytes    UTF-8 bytes of all header keys and values of one message together
 * @param maxNeighbours     node ids in one neighbour list (a Neighbours frame)
 */
public record InboundLimits(int maxMessageIdChars, int maxTopicChars, int maxHeaders, int maxHeaderBytes,
        int maxNeighbours) {

    public static final InboundLimits DEFAULTS = new InboundLimits(128, 256, 32, 8192, 1024);

    /** Which cap a message broke: the counter that records it ({@code refused.…}) and why, for the log and the nack. */
    public record Breach(String counter, String reason) {
    }

    public InboundLimits {
        if (maxMessageIdChars < 1 || maxTopicChars < 1 || maxHeaders < 0 || maxHeaderBytes < 0 || maxNeighbours < 0) {
            throw new IllegalArgumentException("inbound limits must be positive (headers and neighbours may be 0)");
        }
    }

    /** The first cap the message breaks, or null when it keeps all of them. */
    public Breach check(String messageId, String topic, Map<String, String> headers) {
        if (messageId.length() > maxMessageIdChars) {
            return new Breach("refused.messageIdTooLong",
                    "message id of " + messageId.length() + " characters exceeds " + maxMessageIdChars);
        }
        if (topic.length() > maxTopicChars) {
            return new Breach("refused.topicTooLong", "topic of " + topic.length() + " characters exceeds " + maxTopicChars);
        }
        if (headers.size() > maxHeaders) {
            return new Breach("refused.tooManyHeaders", headers.size() + " headers exceed " + maxHeaders);
        }
        long bytes = 0;
        for (Map.Entry<String, String> h : headers.entrySet()) {
            bytes += utf8Length(h.getKey()) + utf8Length(h.getValue());
        }
        if (bytes > maxHeaderBytes) {
            return new Breach("refused.headersTooLarge", "headers of " + bytes + " bytes exceed " + maxHeaderBytes);
        }
        return null;
    }

    /** The breach of a neighbour list that is too long, or null. */
    public Breach checkNeighbours(List<String> ids) {
        return ids.size() > maxNeighbours
                ? new Breach("refused.neighboursTooMany", ids.size() + " neighbours exceed " + maxNeighbours)
                : null;
    }

    /** The UTF-8 length of {@code s} without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
