package dev.meshwork.launcher;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks what the metatype cannot say about a value: that a node id is one, a URL parses, a key
 * is an Ed25519 key, a required key is there. A bad value is a configuration error (one line
 * naming the key the user wrote, exit code 78) before any bundle starts — not a component that
 * fails to activate later, or a trusted key that silently never matches.
 */
final class ValueChecks {

    /** The rule of {@code dev.meshwork.api.NodeId} (the api is a bundle, not on the launcher's class path). */
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private static final String NODE = "dev.meshwork.node";
    private static final String PEER = "dev.meshwork.peer";
    private static final String SUPERVISOR = "dev.meshwork.supervisor";

    /** Where one configuration's keys came from: the key prefix the user wrote and each attribute's origin. */
    static final class Origins {
        private final String prefix;
        private final String firstOrigin;
        private final Map<String, String> byAttribute = new LinkedHashMap<>();

        Origins(String prefix, String firstOrigin) {
            this.prefix = prefix;
            this.firstOrigin = firstOrigin;
        }

        void put(String attribute, String origin) {
            byAttribute.put(attribute, origin);
        }

        String key(String attribute) {
            return prefix + attribute;
        }

        String origin(String attribute) {
            return byAttribute.getOrDefault(attribute, firstOrigin);
        }
    }

    private ValueChecks() {
    }

    static void check(Map<PidKey, Map<String, Object>> pids, Map<PidKey, Origins> origins, MetatypeCatalog catalog)
            throws LaunchException {
        for (Map.Entry<PidKey, Map<String, Object>> entry : pids.entrySet()) {
            PidKey pid = entry.getKey();
            Map<String, Object> properties = entry.getValue();
            Origins where = origins.get(pid);
            Optional<MetatypeCatalog.PidSchema> schema = catalog.schema(pid.pid());
            if (schema.isPresent()) {
                for (MetatypeCatalog.Attribute attribute : schema.get().attributes().values()) {
                    if (attribute.defaultValue().isEmpty() && !properties.containsKey(attribute.id())) {
                        throw missing(where, attribute.id(), attribute.description().orElse("it has no default"));
                    }
                }
            }
            switch (pid.pid()) {
                case NODE -> {
                    for (String id : strings(properties.get("id"))) {
                        if (!id.isBlank()) {
                            nodeId(where, "id", id);
                        }
                    }
                    for (String url : strings(properties.get("listen"))) {
                        url(where, "listen", url);
                    }
                    for (String key : strings(properties.get("trustedKeys"))) {
                        trustedKey(where, key);
                    }
                }
                case PEER -> {
                    for (String id : strings(properties.get("node"))) {
                        nodeId(where, "node", id);
                    }
                    for (String url : strings(properties.get("urls"))) {
                        url(where, "urls", url);
                    }
                    for (String key : strings(properties.get("publicKey"))) {
                        if (!key.isBlank()) {
                            publicKey(where, "publicKey", key);
                        }
                    }
                }
                case SUPERVISOR -> {
                    if (strings(properties.get("command")).stream().allMatch(String::isBlank)) {
                        throw missing(where, "command", "the program to run");
                    }
                }
                default -> {
                    // other PIDs: the metatype's types and options are all there is to check
                }
            }
        }
    }

    static boolean isNodeId(String value) {
        return value != null && NODE_ID.matcher(value).matches();
    }

    /** Why {@code value} is not a URL a transport can listen on or dial, if it is not. */
    static Optional<String> urlProblem(String value) {
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            return Optional.of(e.getReason() + " at index " + e.getIndex());
        }
        if (uri.getScheme() == null || uri.isOpaque()) {
            return Optional.of("not an absolute URL such as ws://HOST:PORT/PATH");
        }
        try {
            uri = uri.parseServerAuthority();
        } catch (URISyntaxException e) {
            return Optional.of(e.getReason());
        }
        if (uri.getHost() == null) {
            return Optional.of("no host");
        }
        if (uri.getPort() > 65_535) {
            return Optional.of("port " + uri.getPort() + " is out of range");
        }
        return Optional.empty();
    }

    /** Parses a Base64 X.509 (SubjectPublicKeyInfo) Ed25519 public key, the form {@code publicKey} takes. */
    static Optional<PublicKey> ed25519(String base64) {
        try {
            return Optional.of(KeyFactory.getInstance("Ed25519").generatePublic(
                    new X509EncodedKeySpec(Base64.getDecoder().decode(base64.trim()))));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static void nodeId(Origins where, String attribute, String value) throws LaunchException {
        if (!isNodeId(value.trim())) {
            throw invalid(where, attribute, "'" + value + "' is not a node id (1-64 characters of [A-Za-z0-9._-], "
                    + "starting with a letter or digit)");
        }
    }

    private static void url(Origins where, String attribute, String value) throws LaunchException {
        Optional<String> problem = urlProblem(value);
        if (problem.isPresent()) {
            throw invalid(where, attribute, "'" + value + "' is not a valid URL: " + problem.get());
        }
    }

    private static void publicKey(Origins where, String attribute, String value) throws LaunchException {
        if (ed25519(value).isEmpty()) {
            throw invalid(where, attribute, "'" + abbreviate(value) + "' is not an Ed25519 public key "
                    + "(Base64 of its X.509 encoding, as `java -jar meshwork.jar identity` prints it)");
        }
    }

    private static void trustedKey(Origins where, String value) throws LaunchException {
        publicKey(where, "trustedKeys", value);
        // The router compares trusted keys as text: another spelling of the same key would never match.
        String canonical = Base64.getEncoder().encodeToString(ed25519(value).orElseThrow().getEncoded());
        if (!canonical.equals(value)) {
            throw invalid(where, "trustedKeys", "'" + abbreviate(value) + "' is not in the canonical form '" + canonical + "'");
        }
    }

    private static String abbreviate(String value) {
        String v = value.replaceAll("\\s+", " ");
        return v.length() > 60 ? v.substring(0, 57) + "..." : v;
    }

    private static LaunchException invalid(Origins where, String attribute, String why) {
        return new LaunchException(LaunchException.CONFIG, where.origin(attribute) + ": configuration key '"
                + where.key(attribute) + "': " + why);
    }

    private static LaunchException missing(Origins where, String attribute, String what) {
        return new LaunchException(LaunchException.CONFIG, where.origin(attribute) + ": configuration key '"
                + where.key(attribute) + "' is missing (" + what.replaceAll("\\.$", "") + ")");
    }

    private static List<String> strings(Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof Object[] array) {
            return java.util.Arrays.stream(array).map(String::valueOf).toList();
        }
        return List.of(String.valueOf(value));
    }
}
