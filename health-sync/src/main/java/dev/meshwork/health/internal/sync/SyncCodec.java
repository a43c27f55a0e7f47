package dev.meshwork.health.internal.sync;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.OriginSnapshot;
import dev.meshwork.health.internal.crdt.Summary;
import dev.meshwork.health.internal.wire.Event;
import dev.meshwork.health.internal.wire.EventType;
import dev.meshwork.health.internal.wire.StateFile;
import dev.meshwork.health.internal.wire.SyncBody;
import dev.meshwork.health.internal.wire.VersionEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Converts sync messages and the persisted document to and from the bundle's private protobuf
 * schema ({@code meshwork/health/health_sync.proto}).
 *
 * <p>Events inside a fragment travel without their sequence number or origin (both implied by
 * the fragment), which keeps a pushed event small. Decoding validates everything a peer controls
 * (node ids, types, contiguity) and reports bad input as {@link MalformedSyncException}.
 */
public final class SyncCodec {

    private SyncCodec() {
    }

    /** Thrown for bytes that are not a valid sync message or state file. */
    public static final class MalformedSyncException extends Exception {
        private static final long serialVersionUID = 1L;

        public MalformedSyncException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static byte[] encode(SyncMessage m) {
        SyncBody.Builder b = SyncBody.newBuilder().setKind(switch (m.kind()) {
            case DIGEST -> SyncBody.Kind.DIGEST;
            case DELTA -> SyncBody.Kind.DELTA;
            case PUSH -> SyncBody.Kind.PUSH;
        }).setSession(m.session()).setTruncated(m.truncated()).setRequest(m.request())
                .setAnswer(m.answer());
        m.version().ifPresent(vv -> new TreeMap<>(vv).forEach((node, seq) ->
                b.addVersion(VersionEntry.newBuilder().setOrigin(node.value()).setSeq(seq))));
        for (Fragment f : m.fragments()) {
            b.addFragments(encodeFragment(f));
        }
        return b.build().toByteArray();
    }

    public static SyncMessage decode(byte[] bytes) throws MalformedSyncException {
        try {
            SyncBody body = SyncBody.parseFrom(bytes);
            SyncMessage.Kind kind = switch (body.getKind()) {
                case DIGEST -> SyncMessage.Kind.DIGEST;
                case DELTA -> SyncMessage.Kind.DELTA;
                case PUSH -> SyncMessage.Kind.PUSH;
                default -> throw new IllegalArgumentException("unknown sync kind " + body.getKindValue());
            };
            Optional<Map<NodeId, Long>> version = Optional.empty();
            if (kind != SyncMessage.Kind.PUSH) {
                Map<NodeId, Long> vv = new TreeMap<>();
                for (VersionEntry e : body.getVersionList()) {
                    vv.merge(NodeId.of(e.getOrigin()), nonNegative(e.getSeq(), "version"), Math::max);
                }
                version = Optional.of(vv);
            }
            List<Fragment> fragments = new ArrayList<>();
            for (dev.meshwork.health.internal.wire.Fragment f : body.getFragmentsList()) {
                fragments.add(decodeFragment(f));
            }
            return new SyncMessage(kind, body.getSession(), version, fragments, body.getTruncated(), body.getRequest(),
                    body.getAnswer());
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new MalformedSyncException("malformed sync message: " + e.getMessage(), e);
        }
    }

    /** The persisted form of a document. */
    public static byte[] encodeState(NodeId node, Iterable<OriginSnapshot> origins) {
        StateFile.Builder b = StateFile.newBuilder().setNode(node.value());
        for (OriginSnapshot s : origins) {
            b.addOrigins(encodeFragment(s.asFragment()));
        }
        return b.build().toByteArray();
    }

    public static List<Fragment> decodeState(byte[] bytes) throws MalformedSyncException {
        return decodeStateFile(bytes).fragments();
    }

    /**
     * A decoded state file.
     *
     * @param node      the node that wrote it (empty if the file does not say)
     * @param fragments the complete logs it holds
     */
    public record State(Optional<NodeId> node, List<Fragment> fragments) {
    }

    public static State decodeStateFile(byte[] bytes) throws MalformedSyncException {
        try {
            StateFile file = StateFile.parseFrom(bytes);
            List<Fragment> fragments = new ArrayList<>();
            for (dev.meshwork.health.internal.wire.Fragment f : file.getOriginsList()) {
                Fragment fragment = decodeFragment(f);
                if (!fragment.complete()) {
                    throw new IllegalArgumentException("state file holds an incomplete log of " + fragment.origin());
                }
                fragments.add(fragment);
            }
            return new State(file.getNode().isEmpty() ? Optional.empty() : Optional.of(NodeId.of(file.getNode())),
                    List.copyOf(fragments));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new MalformedSyncException("malformed health state: " + e.getMessage(), e);
        }
    }

    private static dev.meshwork.health.internal.wire.Fragment encodeFragment(Fragment f) {
        var b = dev.meshwork.health.internal.wire.Fragment.newBuilder().setOrigin(f.origin().value()).setAfter(f.after());
        f.summary().ifPresent(s -> {
            var sb = dev.meshwork.health.internal.wire.Summary.newBuilder().setCovered(s.covered());
            for (HealthEvent e : s.kept()) {
                sb.addKept(encodeEvent(e, true));
            }
            b.setSummary(sb);
        });
        for (HealthEvent e : f.events()) {
            b.addEvents(encodeEvent(e, false));
        }
        return b.build();
    }

    private static Fragment decodeFragment(dev.meshwork.health.internal.wire.Fragment f) {
        NodeId origin = NodeId.of(f.getOrigin());
        long after = nonNegative(f.getAfter(), "after");
        Optional<Summary> summary = Optional.empty();
        if (f.hasSummary()) {
            List<HealthEvent> kept = new ArrayList<>();
            for (Event e : f.getSummary().getKeptList()) {
                kept.add(decodeEvent(origin, nonNegative(e.getSeq(), "seq"), e));
            }
            summary = Optional.of(new Summary(nonNegative(f.getSummary().getCovered(), "covered"), kept));
        }
        List<HealthEvent> events = new ArrayList<>(f.getEventsCount());
        long seq = after;
        for (Event e : f.getEventsList()) {
            events.add(decodeEvent(origin, ++seq, e));
        }
        return new Fragment(origin, after, summary, events);
    }

    private static Event encodeEvent(HealthEvent e, boolean withSeq) {
        Event.Builder b = Event.newBuilder().setAtMillis(e.at().toEpochMilli()).setType(EventType.forNumber(e.type().ordinal() + 1));
        if (withSeq) {
            b.setSeq(e.seq());
        }
        e.subject().ifPresent(s -> b.setSubject(s.value()));
        b.putAllAttributes(e.attributes());
        return b.build();
    }

    private static HealthEvent decodeEvent(NodeId origin, long seq, Event e) {
        int type = e.getTypeValue();
        if (type < 1 || type > HealthEventType.values().length) {
            throw new IllegalArgumentException("unknown event type " + type);
        }
        Optional<NodeId> subject = e.getSubject().isEmpty() ? Optional.empty() : Optional.of(NodeId.of(e.getSubject()));
        return new HealthEvent(origin, seq, Instant.ofEpochMilli(e.getAtMillis()), HealthEventType.values()[type - 1],
                subject, e.getAttributesMap());
    }

    private static long nonNegative(long v, String what) {
        if (v < 0) {
            throw new IllegalArgumentException(what + " out of range");
        }
        return v;
    }
}
