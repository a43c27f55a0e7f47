package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.wire.Envelope;
import java.time.InstantSource;
import java.util.function.Supplier;

/**
 * Decides what happens to an envelope that arrived on an authenticated link, before anything of it
 * is kept: deliver it here, relay it, or refuse it (and how). It checks, in this order, that the
 * ids are well formed and the hop limit in range (else the peer broke the protocol), that the
 * fields it controls keep their {@link InboundLimits} (else a typed refusal), and that the source
 * is proven: the link's own peer, or a source whose signature verifies ({@link EndToEndAuth}).
 * An unproven source is dropped and counted, never delivered nor relayed; so is a copy of this
 * node's own message coming back (a loop).
 *
 * <pre>
 *   source = link peer, target = here    ACCEPT (incarnation and expiry checked)
 *   source = link peer, target elsewhere RELAY as it came (its origin signed it if it is to be checked)
 *   source elsewhere                     PROVE: the origin's signature is checked, then
 *     signature valid                      ACCEPT or RELAY ({@link #proven}), the signed fields taken from it
 *     no valid signature                   DROP   dropped.unprovenSource (the core counts it)
 *   source = this node                   DROP   dropped.ownSource
 * </pre>
 *
 * Stateless; called under the core's lock.
 */
final class InboundValidator {

    enum Action {
        /** Deliver {@link Verdict#envelope()} here. */
        ACCEPT,
        /** Forward {@link Verdict#envelope()}, as it arrived, towards its target. */
        RELAY,
        /** Refuse with a nack carrying {@link Verdict#code()}. */
        NACK,
        /** Check the origin's signature first (off the lock), then decide with {@link #proven}. */
        PROVE,
        /** Drop silently (counted). */
        DROP,
        /** Close the channel: the peer broke the protocol. */
        VIOLATION
    }

    /**
     * The decision, with the counter that records a refusal (and one that details it, or null) and
     * the reason for its one log line.
     */
    record Verdict(Action action, Envelope envelope, String counter, String detail, FailureCode code, String reason) {

        static Verdict of(Action action, Envelope envelope) {
            return new Verdict(action, envelope, null, null, null, null);
        }

        static Verdict refuse(Action action, String counter, FailureCode code, String reason) {
            return new Verdict(action, null, counter, null, code, reason);
        }
    }

    private final NodeId self;
    private final Supplier<RouterSettings> settings;
    private final InstantSource wall;

    InboundValidator(NodeId self, Supplier<RouterSettings> settings, InstantSource wall) {
        this.self = self;
        this.settings = settings;
        this.wall = wall;
    }

    /**
     * @param peer            the authenticated node at the other end of the link it came on
     * @param peerIncarnation that node's current incarnation
     */
    Verdict check(Envelope env, NodeId peer, String peerIncarnation) {
        if (!NodeId.isValid(env.getSource()) || !NodeId.isValid(env.getTarget()) || env.getMessageId().isEmpty()) {
            return Verdict.refuse(Action.VIOLATION, "refused.malformedEnvelope", FailureCode.PROTOCOL_VIOLATION,
                    "envelope with a malformed source, target or id");
        }
        if (env.getHopLimit() > SendOptions.MAX_HOP_LIMIT) {
            return Verdict.refuse(Action.VIOLATION, "refused.hopLimitOverflow", FailureCode.PROTOCOL_VIOLATION,
                    "hop limit " + env.getHopLimit() + " above " + SendOptions.MAX_HOP_LIMIT);
        }
        Verdict over = limits(env);
        if (over != null) {
            return over;
        }
        NodeId source = NodeId.of(env.getSource());
        boolean here = env.getTarget().equals(self.value());
        if (source.equals(self)) {
            return Verdict.refuse(Action.DROP, "dropped.ownSource", null,
                    "a copy of this node's own message " + env.getMessageId() + " came back from " + peer);
        }
        boolean direct = source.equals(peer);
        if (direct && !here) {
            return Verdict.of(Action.RELAY, env);
        }
        if (!direct || !env.getSignedBody().isEmpty()) {
            return Verdict.of(Action.PROVE, env);
        }
        return accept(env, env, true, peerIncarnation);
    }

    /**
     * The decision on an envelope whose origin signature verified ({@code plain}: its fields read
     * from the signature; {@code wire}: as it arrived, to relay unchanged).
     */
    Verdict proven(Envelope wire, Envelope plain, NodeId peer, String peerIncarnation) {
        if (!plain.getTarget().equals(self.value())) {
            return Verdict.of(Action.RELAY, wire);
        }
        Verdict over = limits(plain);
        return over != null ? over : accept(wire, plain, plain.getSource().equals(peer.value()), peerIncarnation);
    }

    private Verdict accept(Envelope wire, Envelope plain, boolean direct, String peerIncarnation) {
        if (direct && !plain.getSourceIncarnation().equals(peerIncarnation)) {
            return Verdict.refuse(Action.DROP, "dropped.oldIncarnation", null, null);
        }
        if (plain.getExpiresAtMillis() != 0 && plain.getExpiresAtMillis() < wall.millis()) {
            return Verdict.refuse(Action.DROP, "dropped.expired.in", null, null);
        }
        return Verdict.of(Action.ACCEPT, plain);
    }

    private Verdict limits(Envelope env) {
        RouterSettings s = settings.get();
        if (env.getPayload().size() > s.maxPayloadBytes()) {
            return Verdict.refuse(Action.NACK, "refused.payloadTooLarge", FailureCode.PAYLOAD_TOO_LARGE,
                    env.getPayload().size() + " bytes exceed " + s.maxPayloadBytes());
        }
        InboundLimits.Breach breach = s.limits().check(env.getMessageId(), env.getTopic(), env.getHeadersMap());
        return breach == null ? null
                : Verdict.refuse(Action.NACK, breach.counter(), FailureCode.PAYLOAD_TOO_LARGE, breach.reason());
    }
}
