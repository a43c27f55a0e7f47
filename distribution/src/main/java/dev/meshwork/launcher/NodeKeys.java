package dev.meshwork.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The node's key pair without starting the node ({@code java -jar meshwork.jar identity}).
 *
 * <p>Same files and format as the router's identity ({@code Ed25519Identity} in
 * transport-multichannel, private to that bundle), so a node started later on this data directory
 * uses these keys: {@code DATA/identity/node.key} (PKCS#8, mode 0600), {@code node.pub} (X.509)
 * and, when no id is configured, {@code node.id} holding {@code node-} and bytes 12..19 of the
 * X.509 encoding in hex. Keep the two in step.
 *
 * @param nodeId    the id the node will use
 * @param publicKey Base64 of the X.509 encoding, the form {@code peers.NAME.publicKey} takes
 */
record NodeKeys(String nodeId, String publicKey) {

    /** Loads the identity under {@code identityDir}, creating what is missing, as the router would. */
    static NodeKeys loadOrCreate(Path identityDir, Optional<String> configuredId) throws LaunchException {
        Path keyFile = identityDir.resolve("node.key");
        Path pubFile = identityDir.resolve("node.pub");
        Path idFile = identityDir.resolve("node.id");
        try {
            Files.createDirectories(identityDir);
            PublicKey pub;
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            if (Files.exists(keyFile)) {
                factory.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(keyFile))); // readable, as the router needs it
                pub = factory.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(pubFile)));
            } else {
                var pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                writePrivate(keyFile, pair.getPrivate().getEncoded());
                Files.write(pubFile, pair.getPublic().getEncoded());
                pub = pair.getPublic();
            }
            String id;
            if (configuredId.isPresent()) {
                id = configuredId.get();
            } else if (Files.exists(idFile)) {
                id = Files.readString(idFile, StandardCharsets.UTF_8).trim();
            } else {
                id = "node-" + HexFormat.of().formatHex(pub.getEncoded(), 12, 20);
                Files.writeString(idFile, id + "\n", StandardCharsets.UTF_8);
            }
            if (!ValueChecks.isNodeId(id)) {
                throw new LaunchException(LaunchException.CONFIG, idFile + " holds '" + id + "', which is not a node id");
            }
            return new NodeKeys(id, Base64.getEncoder().encodeToString(pub.getEncoded()));
        } catch (IOException e) {
            throw new LaunchException(LaunchException.CONFIG, "cannot read or write the node identity in " + identityDir + ": "
                    + ConfigSources.oneLine(e));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new LaunchException(LaunchException.CONFIG, "the node identity in " + identityDir + " is unreadable: "
                    + ConfigSources.oneLine(e));
        }
    }

    private static void writePrivate(Path file, byte[] encoded) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            // created between our check and here: overwriting keeps the permissions it was created with
        }
        Files.write(file, encoded, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
