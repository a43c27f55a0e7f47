package dev.meshwork.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The identity of a node in the mesh: 1 to 64 characters of {@code [A-Za-z0-9._-]}, starting with
 * a letter or digit.
 *
 * <p>A node id is bound to the node's Ed25519 public key by the hello handshake: peers sign the
 * id together with each other's nonce, and a configured peer pins both. Immutable and thread-safe.
 *
 * @param value the textual id
 */
public record NodeId(String value) implements Comparable<NodeId> {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /**
     * @throws IllegalArgumentException if {@code value} is not a valid node id
     */
    public NodeId {
        Objects.requireNonNull(value, "node id");
        if (!VALID.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "invalid node id '" + value + "': 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit");
        }
    }

    /** Parses a node id; same as the constructor. */
    public static NodeId of(String value) {
        return new NodeId(value);
    }

    /** Whether {@code value} would be accepted by {@link #of(String)}. */
    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    @Override
    public int compareTo(NodeId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
