package dev.meshwork.transport.multichannel.internal.secure;

import dev.meshwork.api.NodeId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which Ed25519 key each learned node id is bound to: an id first seen with a key from
 * {@code node.trustedKeys} keeps that key, so no other key (trusted or not) can take it over.
 *
 * <p>Kept in {@code <data dir>/identity/bindings}, next to the node's own identity, one
 * {@code <node id> <Base64 X.509 key>} line per binding, rewritten whole and atomically (a
 * temporary file moved over the old one) on every new binding, so a crash leaves the old or the
 * new table, never half of one. At most {@value #MAX_BINDINGS} bindings (the file stays under
 * 1 MiB); past that, a new id is not learned. Thread-safe.
 */
public final class IdentityBindings {

    public static final int MAX_BINDINGS = 10_000;

    private final Path file;
    private final Map<NodeId, String> keys = new LinkedHashMap<>();

    private IdentityBindings(Path file) {
        this.file = file;
    }

    /** Bindings that live only in memory (tests, benchmarks, nodes without a data directory). */
    public static IdentityBindings inMemory() {
        return new IdentityBindings(null);
    }

    /**
     * Loads the bindings kept in {@code file} (none when it does not exist yet).
     *
     * @throws UncheckedIOException naming the file when it cannot be read
     * @throws IllegalStateException naming the file and line when a line is malformed
     */
    public static IdentityBindings load(Path file) {
        IdentityBindings b = new IdentityBindings(file);
        if (!Files.exists(file)) {
            return b;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\s+");
                if (parts.length != 2 || !NodeId.isValid(parts[0])) {
                    throw new IllegalStateException(file + " line " + (i + 1) + ": expected '<node id> <Base64 key>'");
                }
                Base64.getDecoder().decode(parts[1]);
                b.keys.put(NodeId.of(parts[0]), parts[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the identity bindings " + file + ": " + e, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(file + ": malformed key: " + e.getMessage(), e);
        }
        return b;
    }

    /** The Base64 X.509 key {@code node} is bound to. */
    public synchronized Optional<String> keyOf(NodeId node) {
        return Optional.ofNullable(keys.get(node));
    }

    /**
     * Binds {@code node} to {@code base64Key} and persists the table.
     *
     * @return false when {@code node} is already bound (to this or another key) or the table is full
     * @throws UncheckedIOException when the table cannot be written (the binding is then not kept)
     */
    public synchronized boolean bind(NodeId node, String base64Key) {
        if (keys.containsKey(node) || keys.size() >= MAX_BINDINGS) {
            return false;
        }
        keys.put(node, base64Key);
        try {
            persist();
        } catch (IOException e) {
            keys.remove(node);
            throw new UncheckedIOException("cannot write the identity bindings " + file + ": " + e, e);
        }
        return true;
    }

    public synchronized int size() {
        return keys.size();
    }

    private void persist() throws IOException {
        if (file == null) {
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add("# node id -> the Ed25519 key it was first seen with (Meshwork; edit only while the node is stopped)");
        keys.forEach((node, key) -> lines.add(node.value() + " " + key));
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
