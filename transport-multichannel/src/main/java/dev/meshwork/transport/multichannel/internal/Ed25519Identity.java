package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.NodeIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * This node's Ed25519 identity, kept under {@code <data dir>/identity/}: {@code node.key}
 * (PKCS#8, mode 0600), {@code node.pub} (X.509) and {@code node.id}.
 *
 * <p>The key pair and the id are created on first start and reused afterwards, so peers can pin
 * them; the incarnation is new on every construction, so peers recognise a restart. Uses the
 * JDK's own Ed25519 (no third-party crypto). Thread-safe.
 */
public final class Ed25519Identity implements NodeIdentity {

    private final NodeId nodeId;
    private final PublicKey publicKey;
    private final PrivateKey privateKey;
    private final String incarnation;

    private Ed25519Identity(NodeId nodeId, KeyPair pair, String incarnation) {
        this.nodeId = nodeId;
        this.publicKey = pair.getPublic();
        this.privateKey = pair.getPrivate();
        this.incarnation = incarnation;
    }

    /** An identity that lives only in memory (tests, benchmarks). */
    public static Ed25519Identity ephemeral(NodeId id) {
        return new Ed25519Identity(id, generate(), newIncarnation());
    }

    /**
     * Loads the identity from {@code dir}, creating it on first use.
     *
     * @param configuredId the id from configuration, if any; it replaces a generated one
     * @throws UncheckedIOException with a one-line message naming the file when it cannot be read or written
     */
    public static Ed25519Identity loadOrCreate(Path dir, Optional<NodeId> configuredId) {
        Path keyFile = dir.resolve("node.key");
        Path pubFile = dir.resolve("node.pub");
        Path idFile = dir.resolve("node.id");
        try {
            Files.createDirectories(dir);
            KeyPair pair;
            if (Files.exists(keyFile)) {
                KeyFactory factory = KeyFactory.getInstance("Ed25519");
                PrivateKey priv = factory.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(keyFile)));
                PublicKey pub = factory.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(pubFile)));
                pair = new KeyPair(pub, priv);
            } else {
                pair = generate();
                writePrivate(keyFile, pair.getPrivate().getEncoded());
                Files.write(pubFile, pair.getPublic().getEncoded());
            }
            NodeId id;
            if (configuredId.isPresent()) {
                id = configuredId.get();
            } else if (Files.exists(idFile)) {
                id = NodeId.of(Files.readString(idFile, StandardCharsets.UTF_8).trim());
            } else {
                id = NodeId.of("node-" + HexFormat.of().formatHex(pair.getPublic().getEncoded(), 12, 20));
                Files.writeString(idFile, id.value() + "\n", StandardCharsets.UTF_8);
            }
            return new Ed25519Identity(id, pair, newIncarnation());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the node identity in " + dir + ": " + e, e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("the node identity in " + dir + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** The same keys and id with a new incarnation, as after a restart (tests). */
    public static Ed25519Identity restartOf(Ed25519Identity previous) {
        return new Ed25519Identity(previous.nodeId, new KeyPair(previous.publicKey, previous.privateKey), newIncarnation());
    }

    private static void writePrivate(Path file, byte[] encoded) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            // another start raced us; overwrite below keeps the permissions it set
        }
        Files.write(file, encoded, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no Ed25519", e);
        }
    }

    private static String newIncarnation() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Parses a Base64 X.509 Ed25519 key, failing with IllegalArgumentException. */
    public static PublicKey parsePublicKey(String base64) {
        return parsePublicKey(Base64.getDecoder().decode(base64.trim()));
    }

    public static PublicKey parsePublicKey(byte[] x509) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** Verifies an Ed25519 signature; false (never an exception) when it does not verify. */
    public static boolean verify(PublicKey key, byte[] data, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(data);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public NodeId nodeId() {
        return nodeId;
    }

    @Override
    public PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public String publicKeyBase64() {
        return Base64.getEncoder().encodeToString(publicKey.getEncoded());
    }

    @Override
    public String incarnation() {
        return incarnation;
    }

    @Override
    public byte[] sign(byte[] data) {
        try {
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(privateKey);
            signer.update(data);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }
}
