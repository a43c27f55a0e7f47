package dev.meshwork.transport.multichannel.internal.secure;

import com.southernstorm.noise.protocol.DHState;
import com.southernstorm.noise.protocol.Noise;
import java.security.NoSuchAlgorithmException;

/**
 * This node's Noise static X25519 key pair: fresh for every incarnation (never written to disk),
 * certified in every handshake by the node's Ed25519 identity (see {@link HandshakePayloads}).
 * Immutable once created; each handshake gets its own copy in noise-java's state.
 */
public final class NoiseStaticKey {

    private final byte[] privateKey;
    private final byte[] publicKey;

    private NoiseStaticKey(byte[] privateKey, byte[] publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    public static NoiseStaticKey generate() {
        DHState dh = dh();
        dh.generateKeyPair();
        byte[] priv = new byte[dh.getPrivateKeyLength()];
        byte[] pub = new byte[dh.getPublicKeyLength()];
        dh.getPrivateKey(priv, 0);
        dh.getPublicKey(pub, 0);
        dh.destroy();
        return new NoiseStaticKey(priv, pub);
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    void installInto(DHState target) {
        target.setPrivateKey(privateKey, 0);
    }

    private static DHState dh() {
        try {
            return Noise.createDH("25519");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("noise-java lacks X25519", e);
        }
    }
}
