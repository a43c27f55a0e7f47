package dev.meshwork.transport.multichannel.internal.secure;

import dev.meshwork.api.NodeId;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether the identity a peer proved in the handshake (a node id and the Ed25519 key that
 * certified the Noise static key) may have a link, in this order:
 *
 * <ol>
 *   <li>this node's own id: only with this node's own key ({@link Verdict#SELF}, a connection to
 *       itself or a twin), any other key is {@link Verdict#OWN_ID};
 *   <li>a pinned peer ({@code peers.NAME.publicKey}): only with its pinned key, any other is
 *       {@link Verdict#KEY_MISMATCH};
 *   <li>an id already bound ({@link IdentityBindings}): only with its bound key, as long as that key
 *       is still in {@code node.trustedKeys}; another key, even a trusted one, is
 *       {@link Verdict#KEY_MISMATCH}; a bound key no longer trusted is {@link Verdict#UNKNOWN_KEY};
 *   <li>a key in {@code node.trustedKeys}: accepted, and the id is bound to it from now on;
 *   <li>anything else: {@link Verdict#UNKNOWN_KEY}, which the dialer retries at its normal pace
 *       (the configuration that trusts it may arrive any moment).
 * </ol>
 *
 * Thread-safe (the bindings are).
 */
public final class TrustPolicy {

    /** The outcome of {@link #decide}. */
    public enum Verdict {
        ACCEPT, SELF, UNKNOWN_KEY, KEY_MISMATCH, OWN_ID
    }

    /** A verdict and the sentence that says why, for the log line and the refusal. */
    public record Decision(Verdict verdict, String reason) {
        public boolean accepted() {
            return verdict == Verdict.ACCEPT;
        }
    }

    private final NodeId self;
    private final String ownKey;
    private final IdentityBindings bindings;

    public TrustPolicy(NodeId self, PublicKey ownKey, IdentityBindings bindings) {
        this.self = self;
        this.ownKey = base64(ownKey);
        this.bindings = bindings;
    }

    /**
     * Decides on {@code key} claiming {@code node}; binds a newly learned id.
     *
     * @param pinned      the key configured for {@code node}, if it is a configured peer with one
     * @param trustedKeys the Base64 X.509 keys of {@code node.trustedKeys}
     */
    public Decision decide(NodeId node, PublicKey key, Optional<PublicKey> pinned, Set<String> trustedKeys) {
        String claimed = base64(key);
        if (node.equals(self)) {
            return equal(claimed, ownKey) ? new Decision(Verdict.SELF, "the peer is this node's own identity")
                    : new Decision(Verdict.OWN_ID, "another key claims this node's own id " + node);
        }
        if (pinned.isPresent()) {
            return equal(claimed, base64(pinned.get())) ? new Decision(Verdict.ACCEPT, "pinned key")
                    : new Decision(Verdict.KEY_MISMATCH, "key of " + node + " is not the key configured for it");
        }
        Optional<String> bound = bindings.keyOf(node);
        if (bound.isPresent()) {
            if (!equal(claimed, bound.get())) {
                return new Decision(Verdict.KEY_MISMATCH, "id " + node + " is bound to another key (first seen with it)");
            }
            return trustedKeys.contains(claimed) ? new Decision(Verdict.ACCEPT, "bound trusted key")
                    : new Decision(Verdict.UNKNOWN_KEY, "key of " + node + " is no longer in node.trustedKeys");
        }
        if (trustedKeys.contains(claimed)) {
            if (!bindings.bind(node, claimed)) {
                return new Decision(Verdict.UNKNOWN_KEY, "cannot learn " + node + ": " + IdentityBindings.MAX_BINDINGS
                        + " ids are bound already");
            }
            return new Decision(Verdict.ACCEPT, "trusted key, id " + node + " now bound to it");
        }
        return new Decision(Verdict.UNKNOWN_KEY, "key of " + node
                + " is not trusted (yet): no peer configuration or trusted key for it");
    }

    /** Whether a link already up with {@code key} for {@code node} is still trusted (after a settings change); binds nothing. */
    public boolean stillTrusted(NodeId node, PublicKey key, Optional<PublicKey> pinned, Set<String> trustedKeys) {
        String claimed = base64(key);
        if (pinned.isPresent()) {
            return equal(claimed, base64(pinned.get()));
        }
        Optional<String> bound = bindings.keyOf(node);
        return (bound.isEmpty() || equal(claimed, bound.get())) && trustedKeys.contains(claimed);
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                b.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static String base64(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }
}
