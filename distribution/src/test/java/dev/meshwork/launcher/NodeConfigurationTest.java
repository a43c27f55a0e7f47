package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigurationTest {

    private static final String METATYPE = """
            <?xml version="1.0" encoding="UTF-8"?>
            <metatype:MetaData xmlns:metatype="http://www.osgi.org/xmlns/metatype/v1.4.0">
              <OCD id="node" name="Node">
                <AD id="id" type="String" default=""/>
                <AD id="listen" type="String" cardinality="2147483647" default="ws://127.0.0.1:7400/mesh"/>
                <AD id="pingIntervalMillis" type="Integer" default="250"/>
                <AD id="verifyPeers" type="Boolean" default="true"/>
                <AD id="trustedKeys" type="String" cardinality="100" default=""/>
                <AD id="mode" type="String" default="fast">
                  <Option label="fast" value="fast"/>
                  <Option label="safe" value="safe"/>
                </AD>
              </OCD>
              <Designate pid="dev.meshwork.node"><Object ocdref="node"/></Designate>
              <OCD id="peer" name="Peer">
                <AD id="node" type="String"/>
                <AD id="urls" type="String" cardinality="100"/>
                <AD id="publicKey" type="String" default=""/>
              </OCD>
              <Designate factoryPid="dev.meshwork.peer"><Object ocdref="peer"/></Designate>
            </metatype:MetaData>
            """;

    @TempDir
    Path dir;

    private MetatypeCatalog catalog;

    @BeforeEach
    void readMetatype() throws Exception {
        Map<String, MetatypeCatalog.PidSchema> schemas = new HashMap<>();
        MetatypeCatalog.parse(METATYPE.getBytes(StandardCharsets.UTF_8), schemas);
        catalog = new MetatypeCatalog(schemas);
    }

    private NodeConfiguration.Resolved resolve(String fileName, String content, Map<String, String> env,
            Map<Object, Object> sys) throws Exception {
        Path file = dir.resolve(fileName);
        Files.writeString(file, content);
        return NodeConfiguration.resolve(new ConfigSources(Optional.of(file), env, sys).read(), catalog);
    }

    @Test
    void mapsYamlSectionsToPidsWithTypedValues() throws Exception {
        var resolved = resolve("node.yaml", """
                node:
                  id: alpha
                  listen: ["ws://127.0.0.1:7500/mesh", "ws://[::1]:7500/mesh"]
                  pingIntervalMillis: 100
                  verifyPeers: false
                peers:
                  beta:
                    node: beta
                    urls:
                      - ws://127.0.0.1:7401/mesh
                      - ws://127.0.0.1:7411/mesh
                data.dir: /var/lib/meshwork
                """, Map.of(), Map.of());
        Map<String, Object> node = resolved.pids().get(PidKey.singleton("dev.meshwork.node"));
        assertEquals("alpha", node.get("id"));
        assertArrayEquals(new String[] {"ws://127.0.0.1:7500/mesh", "ws://[::1]:7500/mesh"}, (String[]) node.get("listen"));
        assertEquals(100, node.get("pingIntervalMillis"));
        assertEquals(Boolean.FALSE, node.get("verifyPeers"));
        Map<String, Object> beta = resolved.pids().get(PidKey.factory("dev.meshwork.peer", "beta"));
        assertArrayEquals(new String[] {"ws://127.0.0.1:7401/mesh", "ws://127.0.0.1:7411/mesh"}, (String[]) beta.get("urls"));
        assertEquals(Path.of("/var/lib/meshwork"), resolved.dataDir().orElseThrow());
    }

    @Test
    void readsPropertiesFilesWithCommaSeparatedLists() throws Exception {
        var resolved = resolve("node.properties", """
                node.id = alpha
                peers.beta.node = beta
                peers.beta.urls = ws://127.0.0.1:7401/mesh, ws://127.0.0.1:7411/mesh
                """, Map.of(), Map.of());
        assertEquals(2, ((String[]) resolved.pids().get(PidKey.factory("dev.meshwork.peer", "beta")).get("urls")).length);
    }

    @Test
    void environmentOverridesTheFileAndSystemPropertiesOverrideBoth() throws Exception {
        String yaml = "node:\n  id: from-file\n  pingIntervalMillis: 100\n";
        var env = resolve("a.yaml", yaml, Map.of("MESHWORK_NODE_ID", "from-env", "MESHWORK_NODE_PINGINTERVALMILLIS", "50"), Map.of());
        assertEquals("from-env", env.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
        assertEquals(50, env.pids().get(PidKey.singleton("dev.meshwork.node")).get("pingIntervalMillis"));
        var sys = resolve("b.yaml", yaml, Map.of("MESHWORK_NODE_ID", "from-env"), Map.of("meshwork.node.id", "from-sys"));
        assertEquals("from-sys", sys.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
    }

    @Test
    void interpolatesOtherKeysAndTheEnvironment() throws Exception {
        var resolved = resolve("i.yaml", """
                node:
                  listen: ws://127.0.0.1:7600/${node.id}
                  id: node-${sys:java.specification.version}
                """, Map.of(), Map.of());
        String id = "node-" + System.getProperty("java.specification.version");
        assertEquals(id, resolved.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
        assertArrayEquals(new String[] {"ws://127.0.0.1:7600/" + id},
                (String[]) resolved.pids().get(PidKey.singleton("dev.meshwork.node")).get("listen"));
    }

    @Test
    void anUnknownKeyIsAOneLineErrorNamingTheKeyAndFile() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("bad.yaml", "node:\n  pingIntervalMilis: 5\n", Map.of(), Map.of()));
        assertEquals(LaunchException.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains("node.pingIntervalMilis"), e.getMessage());
        assertTrue(e.getMessage().contains("pingIntervalMillis"), "lists the accepted keys: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void anUnknownSectionIsRefused() {
        LaunchException e = assertThrows(LaunchException.class, () -> resolve("s.yaml", "nodes:\n  id: x\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("unknown configuration key 'nodes.id'"), e.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeNamesTheKey() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("t.yaml", "node:\n  pingIntervalMillis: soon\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("'node.pingIntervalMillis' must be an integer, got 'soon'"), e.getMessage());
    }

    @Test
    void aValueOutsideItsOptionsIsRefused() {
        LaunchException e = assertThrows(LaunchException.class, () -> resolve("o.yaml", "node:\n  mode: turbo\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("must be one of [fast, safe]"), e.getMessage());
    }

    @Test
    void aBadEnvironmentVariableIsNamed() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("e.yaml", "node:\n  id: a\n", Map.of("MESHWORK_NODE_COLOUR", "red"), Map.of()));
        assertTrue(e.getMessage().startsWith("environment variable MESHWORK_NODE_COLOUR"), e.getMessage());
    }

    @Test
    void aSectionWhoseBundleIsMissingSaysSo() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("g.yaml", "gateways:\n  gw:\n    command: /bin/true\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("no bundle in this distribution accepts"), e.getMessage());
    }

    @Test
    void malformedYamlIsAOneLineError() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("m.yaml", "node:\n  id: [unclosed\n", Map.of(), Map.of()));
        assertEquals(LaunchException.CONFIG, e.exitCode());
        assertTrue(e.getMessage().startsWith(dir.resolve("m.yaml").toString()), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void aMissingOrWronglyNamedFileIsRefusedBeforeReading() {
        LaunchException missing = assertThrows(LaunchException.class,
                () -> new ConfigSources(Optional.of(dir.resolve("none.yaml")), Map.of(), Map.of()));
        assertTrue(missing.getMessage().endsWith("does not exist"), missing.getMessage());
        LaunchException wrongType = assertThrows(LaunchException.class, () -> resolve("node.json", "{}", Map.of(), Map.of()));
        assertTrue(wrongType.getMessage().contains(".yaml, .yml or .properties"), wrongType.getMessage());
    }

    @Test
    void theConfigurationReferenceListsEverySectionKeyTypeAndDefault() {
        String reference = ConfigReference.markdown(catalog);
        assertTrue(reference.contains("### `node.KEY` — PID `dev.meshwork.node`"), reference);
        assertTrue(reference.contains("### `peers.NAME.KEY` — factory PID `dev.meshwork.peer~NAME`"), reference);
        assertTrue(reference.contains("| `pingIntervalMillis` | Integer | `250` |"), reference);
        assertTrue(reference.contains("| `urls` | String[] | (required) |"), reference);
        assertTrue(reference.contains("One of: fast, safe."), reference);
    }

    // --- values the metatype cannot check: each a one-line configuration error naming the key ---

    private static final String PEER_URL = "    urls: [\"ws://127.0.0.1:7401/mesh\"]\n";

    private static String ed25519Key() throws Exception {
        return Base64.getEncoder().encodeToString(KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded());
    }

    /** Resolves {@code yaml}, expecting a configuration error that names {@code key} and the file, in one line. */
    private String refused(String yaml, String key) {
        LaunchException e = assertThrows(LaunchException.class, () -> resolve("v.yaml", yaml, Map.of(), Map.of()));
        assertEquals(LaunchException.CONFIG, e.exitCode(), e.getMessage());
        assertTrue(e.getMessage().startsWith(dir.resolve("v.yaml") + ": configuration key '" + key + "'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aPeerWithoutNodeIsRefusedNamingTheMissingKey() {
        String message = refused("peers:\n  beta:\n" + PEER_URL, "peers.beta.node");
        assertTrue(message.contains("is missing"), message);
    }

    @Test
    void aPeerWithoutUrlsIsRefused() {
        refused("peers:\n  beta:\n    node: beta\n", "peers.beta.urls");
    }

    @Test
    void aPeerPublicKeyThatIsNotAnEd25519KeyIsRefused() throws Exception {
        String ec = Base64.getEncoder().encodeToString(KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic().getEncoded());
        String raw32 = Base64.getEncoder().encodeToString(new byte[32]);
        for (String bad : List.of("not-base64!", raw32, ec, ed25519Key().substring(4))) {
            String message = refused("peers:\n  beta:\n    node: beta\n" + PEER_URL + "    publicKey: \"" + bad + "\"\n",
                    "peers.beta.publicKey");
            assertTrue(message.contains("is not an Ed25519 public key"), message);
        }
    }

    @Test
    void anEd25519PublicKeyIsAccepted() throws Exception {
        String key = ed25519Key();
        var resolved = resolve("k.yaml", "peers:\n  beta:\n    node: beta\n" + PEER_URL + "    publicKey: " + key + "\n"
                + "node:\n  trustedKeys: [\"" + ed25519Key() + "\"]\n", Map.of(), Map.of());
        assertEquals(key, resolved.pids().get(PidKey.factory("dev.meshwork.peer", "beta")).get("publicKey"));
    }

    @Test
    void aMalformedListenUrlIsRefused() {
        for (String bad : List.of("ws//127.0.0.1:7400/mesh", "127.0.0.1:7400", "ws://127.0.0.1:port/mesh", "ws://[::1/mesh",
                "ws://127.0.0.1:99999/mesh", "ws:///mesh", "ws://a b/mesh")) {
            String message = refused("node:\n  listen: [\"ws://127.0.0.1:7400/mesh\", \"" + bad + "\"]\n", "node.listen");
            assertTrue(message.contains("is not a valid URL"), message);
        }
    }

    @Test
    void aMalformedPeerUrlIsRefused() {
        String message = refused("peers:\n  beta:\n    node: beta\n    urls: [\"ws://127.0.0.1:7401/mesh\", \"ws:/x\"]\n",
                "peers.beta.urls");
        assertTrue(message.contains("'ws:/x'"), message);
    }

    @Test
    void anInvalidNodeIdIsRefused() {
        for (String bad : List.of("-alpha", "al pha", "a".repeat(65), "alpha/1")) {
            refused("node:\n  id: \"" + bad + "\"\n", "node.id");
        }
        refused("peers:\n  beta:\n    node: \"be ta\"\n" + PEER_URL, "peers.beta.node");
    }

    @Test
    void theLaunchersNodeIdRuleIsTheApis() {
        for (String id : List.of("a", "alpha-1", "node_2.b", "9", "-a", ".a", "a b", "a".repeat(64), "a".repeat(65), "é", "")) {
            assertEquals(NodeId.isValid(id), ValueChecks.isNodeId(id), id);
        }
    }

    @Test
    void aGatewayWithoutCommandIsRefused() throws Exception {
        Map<String, MetatypeCatalog.PidSchema> schemas = new HashMap<>(catalog.all());
        MetatypeCatalog.parse("""
                <?xml version="1.0" encoding="UTF-8"?>
                <metatype:MetaData xmlns:metatype="http://www.osgi.org/xmlns/metatype/v1.4.0">
                  <OCD id="gw" name="Gateway">
                    <AD id="command" type="String" default=""/>
                    <AD id="args" type="String" cardinality="100" default=""/>
                  </OCD>
                  <Designate factoryPid="dev.meshwork.supervisor"><Object ocdref="gw"/></Designate>
                </metatype:MetaData>
                """.getBytes(StandardCharsets.UTF_8), schemas);
        catalog = new MetatypeCatalog(schemas);
        refused("gateways:\n  edge:\n    args: [\"--port\", \"9000\"]\n", "gateways.edge.command");
        refused("gateways:\n  edge:\n    command: \"  \"\n", "gateways.edge.command");
        assertEquals("/bin/true", resolve("ok.yaml", "gateways:\n  edge:\n    command: /bin/true\n", Map.of(), Map.of())
                .pids().get(PidKey.factory("dev.meshwork.supervisor", "edge")).get("command"));
    }

    @Test
    void anInvalidTrustedKeyIsRefused() throws Exception {
        String good = ed25519Key();
        String message = refused("node:\n  trustedKeys: [\"" + good + "\", \"MCowBQYDK2VwAyEA\"]\n", "node.trustedKeys");
        assertTrue(message.contains("is not an Ed25519 public key"), message);
        // the same key spelled without padding would never match the router's textual comparison
        refused("node:\n  trustedKeys: [\"" + good.replace("=", "") + "\"]\n", "node.trustedKeys");
    }

    @Test
    void aBadValueFromAnEnvironmentVariableNamesTheVariable() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("env.yaml", "node:\n  id: alpha\n", Map.of("MESHWORK_NODE_LISTEN", "ws//nowhere"), Map.of()));
        assertTrue(e.getMessage().startsWith("environment variable MESHWORK_NODE_LISTEN: configuration key 'node.listen'"),
                e.getMessage());
    }
}
