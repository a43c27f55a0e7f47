package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.security.PublicKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * This node's identity: its id, its Ed25519 key pair (kept under the data directory) and the
 * incarnation of the running process.
 *
 * <p><b>Threading:</b> thread-safe. The private key never leaves the implementation.
 */
@ProviderType
public interface NodeIdentity {

    NodeId nodeId();

    PublicKey publicKey();

    /** The public key as Base64 of its X.509 encoding: the form peer configuration uses. */
    String publicKeyBase64();

    /** A new random id on every start of the node, so peers recognise a restart. */
    String incarnation();

    /** Signs {@code data} with the node's private key (Ed25519). */
    byte[] sign(byte[] data);
}
