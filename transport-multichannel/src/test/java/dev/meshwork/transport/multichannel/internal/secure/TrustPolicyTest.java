package dev.meshwork.transport.multichannel.internal.secure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustPolicyTest {

    private final Ed25519Identity self = Ed25519Identity.ephemeral(NodeId.of("self"));
    private final Ed25519Identity alice = Ed25519Identity.ephemeral(NodeId.of("alice"));
    private final Ed25519Identity mallory = Ed25519Identity.ephemeral(NodeId.of("mallory"));
    private final IdentityBindings bindings = IdentityBindings.inMemory();
    private final TrustPolicy policy = new TrustPolicy(self.nodeId(), self.publicKey(), bindings);
    private final NodeId aliceId = alice.nodeId();

    private TrustPolicy.Verdict decide(NodeId node, Ed25519Identity key, Optional<Ed25519Identity> pinned, Ed25519Identity... trusted) {
        Set<String> keys = new java.util.HashSet<>();
        for (Ed25519Identity t : trusted) {
            keys.add(t.publicKeyBase64());
        }
        return policy.decide(node, key.publicKey(), pinned.map(Ed25519Identity::publicKey), keys).verdict();
    }

    @Test
    void aPinnedIdIsAcceptedOnlyWithItsPinnedKey() {
        assertEquals(TrustPolicy.Verdict.ACCEPT, decide(aliceId, alice, Optional.of(alice)));
        assertEquals(TrustPolicy.Verdict.KEY_MISMATCH, decide(aliceId, mallory, Optional.of(alice), mallory));
    }

    @Test
    void theOwnIdFromAnyOtherKeyIsRefused() {
        assertEquals(TrustPolicy.Verdict.OWN_ID, decide(self.nodeId(), mallory, Optional.empty(), mallory));
        assertEquals(TrustPolicy.Verdict.SELF, decide(self.nodeId(), self, Optional.empty()));
    }

    @Test
    void anIdFirstSeenWithATrustedKeyStaysBoundToIt() {
        assertEquals(TrustPolicy.Verdict.ACCEPT, decide(aliceId, alice, Optional.empty(), alice, mallory));
        assertEquals(Optional.of(alice.publicKeyBase64()), bindings.keyOf(aliceId));
        assertEquals(TrustPolicy.Verdict.KEY_MISMATCH, decide(aliceId, mallory, Optional.empty(), alice, mallory),
                "a second trusted key does not take the id over");
        assertEquals(TrustPolicy.Verdict.ACCEPT, decide(aliceId, alice, Optional.empty(), alice, mallory));
    }

    @Test
    void anUnknownKeyIsRefusedRetryablyAndABoundKeyNoLongerTrustedToo() {
        assertEquals(TrustPolicy.Verdict.UNKNOWN_KEY, decide(aliceId, alice, Optional.empty()));
        assertTrue(bindings.keyOf(aliceId).isEmpty(), "nothing learned from an untrusted key");
        decide(aliceId, alice, Optional.empty(), alice);
        assertEquals(TrustPolicy.Verdict.UNKNOWN_KEY, decide(aliceId, alice, Optional.empty()));
        assertFalse(policy.stillTrusted(aliceId, alice.publicKey(), Optional.empty(), Set.of()));
        assertTrue(policy.stillTrusted(aliceId, alice.publicKey(), Optional.empty(), Set.of(alice.publicKeyBase64())));
    }

    @Test
    void bindingsSurviveARestartInTheDataDirectory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("identity").resolve("bindings");
        TrustPolicy first = new TrustPolicy(self.nodeId(), self.publicKey(), IdentityBindings.load(file));
        Set<String> both = Set.of(alice.publicKeyBase64(), mallory.publicKeyBase64());
        assertTrue(first.decide(aliceId, alice.publicKey(), Optional.empty(), both).accepted());
        assertTrue(Files.readString(file).contains("alice " + alice.publicKeyBase64()));
        assertFalse(Files.exists(file.resolveSibling("bindings.tmp")), "written through a temporary file, moved");
        TrustPolicy restarted = new TrustPolicy(self.nodeId(), self.publicKey(), IdentityBindings.load(file));
        assertEquals(TrustPolicy.Verdict.KEY_MISMATCH,
                restarted.decide(aliceId, mallory.publicKey(), Optional.empty(), both).verdict());
    }
}
